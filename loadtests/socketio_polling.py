"""Locustfile: the chat scenario over Socket.IO on Engine.IO's long polling, against the
Flask-SocketIO peer (python -m loadtests.socketio_server).

locust -f loadtests/socketio_polling.py -H http://127.0.0.1:5002
locust -f loadtests/socketio_polling.py -H http://127.0.0.1:5002 --headless -u 200 -r 50 -t 30s
"""

import loadtests.client_wire  # noqa: F401 - prints the wire bytes counted at the client
from loadtests.clients import SocketIOPollingClient
from loadtests.scenario import ChatUser


class SocketIOPollingUser(ChatUser):
    host = "http://127.0.0.1:5002"
    client_class = SocketIOPollingClient
