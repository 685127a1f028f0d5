"""The Flask app factory: one app, one blueprint per transport, the shared API, the pages,
and in front of Flask the gateway that serves the polling endpoints (transports.gateway)."""

import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request

from chat_core import TRANSPORT_HEADER

from . import api, long_poll, observability, pages, short_poll, sse, websocket
from .auth import authenticate_request
from .backends import make_chat
from .config import Config
from .cookie_sessions import CookieSessionsWhenUsed
from .errors import register_error_handlers
from .gateway import TransportGateway
from .gevent_waiting import GeventWaiting
from .language import init_language
from .metrics import API, COUNTED
from .state import ServerState, state

_TRANSPORT_BLUEPRINTS = {
    short_poll.bp.name,
    long_poll.bp.name,
    sse.bp.name,
    websocket.bp.name,
}
_API_BLUEPRINTS = _TRANSPORT_BLUEPRINTS | {api.bp.name, observability.bp.name}


def create_app(config: object | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    app.config.from_prefixed_env("CHATLAB")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.session_interface = CookieSessionsWhenUsed()

    waiting = GeventWaiting()
    chat = make_chat(app.config, waiting)
    app.extensions["chatlab"] = ServerState(chat=chat, chat_waiting=waiting)

    register_error_handlers(app)
    init_language(app)
    app.before_request(_before_request)
    for module in (api, short_poll, long_poll, sse, websocket, observability, pages):
        app.register_blueprint(module.bp)
    app.wsgi_app = TransportGateway(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def charged_transport() -> str | None:
    """Whose counters this request bumps: its transport's, or the client's declared one."""
    blueprint = request.blueprint
    if blueprint in _TRANSPORT_BLUEPRINTS:
        return blueprint
    if blueprint == api.bp.name:
        declared = request.headers.get(TRANSPORT_HEADER, API)
        return declared if declared in COUNTED else API
    return None


def _before_request() -> None:
    transport = charged_transport()
    meter = request.environ.get("chatlab.meter")
    if meter is not None:
        meter.begin(None if transport is None else state().metrics.transports[transport])
    if request.blueprint in _API_BLUEPRINTS and request.endpoint is not None:
        authenticate_request(_requested_view())


def _requested_view() -> Callable:
    return current_app.view_functions[request.endpoint]
