"""The Flask app and gevent server that expose chat_core over four transports."""

from .app import create_app as create_app
