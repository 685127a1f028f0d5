"""The transport endpoints, served in front of Flask: WSGI middleware on `app.wsgi_app`.

A poll is the request a client makes many times a second, and through Flask most of its cost
was Flask's: the request context, URL matching, the before_request chain, the session
interface and a `Response` object, for an answer that is a few bytes of JSON. Flask-SocketIO
does the same for its endpoints (Engine.IO is WSGI middleware in front of the app). The
gateway answers `GET /api/poll`, `GET /api/longpoll` and the upgrade `GET /ws` itself, by the
same rules as every other request: `auth.authenticate` decides who is asking (Origin, session,
stream quota), `errors.error_answer` words every refusal, the meter charges the request to its
transport and session, and the transport's own module works out the answer. Everything else
(other methods, other paths, `/ws` without `Upgrade: websocket` or under a server that cannot
upgrade) goes on to Flask, whose routes for these endpoints stay registered (HEAD, 405 with
Allow, 400 and 503 for `/ws`, the docs). A WebSocket served here holds no Flask request
context for its life.

It is a plain WSGI callable: under gunicorn or behind nginx it serves as under chatlab's own
server (a server that cannot upgrade sends `/ws` on to Flask's 503).

Measured (20 long-poll clients in one room, a message a second each, server alone on core 0,
Locust on core 1, µs of server CPU per delivered message, alternating runs on the shared lab
machine): through Flask 493-579, through the gateway 266-357; profile (py-spy) before: 48% of
the server's samples inside Flask.__call__, after: 15% in the gateway's own work. Idle
WebSockets (2,000, resident memory each): 28.0 KiB with the Flask context held, see the
branch's report for the gateway's figure.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_host

from chat_core import ChatError, Session, Transport

from . import long_poll, short_poll, websocket
from .auth import Asking, authenticate
from .cookie_sessions import cookie_token
from .errors import Answer, error_answer, http_error_answer, status_line, unexpected_answer
from .http_body import JSON
from .state import ServerState

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]
Answering = Callable[[ServerState, Mapping[str, Any], Session, Mapping[str, str]], bytes]
Serving = Callable[[ServerState, Mapping[str, Any], Session, Mapping[str, str], dict], None]


@dataclass(frozen=True, slots=True)
class Route:
    transport: str  # whose counters the request is charged to
    view: Callable  # Flask's view for the same endpoint: its marks (public, streaming…) apply
    answer: Answering | None = None  # the 200 answer's JSON body
    serve: Serving | None = None  # or: serves the connection itself (a WebSocket)


def _wants_upgrade(environ: dict[str, Any]) -> bool:
    """An upgrade to WebSocket, on a server that can make it (chatlab's own)."""
    return (
        "chatlab.accept_websocket" in environ
        and environ.get("HTTP_UPGRADE", "").lower() == "websocket"
    )


def query_of(query_string: str) -> dict[str, str]:
    """The query's arguments, the first value of each name, decoded as Werkzeug decodes
    `request.args` (invalid bytes stay percent-encoded)."""
    if not query_string:
        return {}
    found: dict[str, str] = {}
    decoded = query_string.encode("latin-1").decode()
    for name, value in parse_qsl(decoded, keep_blank_values=True, errors="werkzeug.url_quote"):
        found.setdefault(name, value)
    return found


class TransportGateway:
    def __init__(self, app: Flask, flask_wsgi: WSGIApp) -> None:
        self.app = app
        self.flask_wsgi = flask_wsgi
        self.server: ServerState = app.extensions["chatlab"]
        self.config = app.config
        self.routes = {
            "/api/poll": Route(Transport.SHORT_POLL, short_poll.poll, answer=short_poll.answer),
            "/api/longpoll": Route(
                Transport.LONG_POLL, long_poll.long_poll, answer=long_poll.answer
            ),
            "/ws": Route(Transport.WEBSOCKET, websocket.websocket, serve=websocket.serve),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if (
            route is None
            or environ.get("REQUEST_METHOD") != "GET"
            or (route.serve is not None and not _wants_upgrade(environ))
        ):
            return self.flask_wsgi(environ, start_response)
        status, headers, body = self.answer(route, environ)
        start_response(status_line(status), headers)
        return [body]

    def answer(self, route: Route, environ: dict[str, Any]) -> Answer:
        server = self.server
        meter = environ.get("chatlab.meter")
        if meter is not None:
            meter.begin(server.metrics.transports[route.transport])
        cookie_read = False

        def token_in_cookie() -> str | None:
            nonlocal cookie_read
            cookie_read = True
            return cookie_token(self.app, environ)

        try:
            query = query_of(environ.get("QUERY_STRING", ""))
            asking = Asking(
                method="GET",
                origin=environ.get("HTTP_ORIGIN"),
                host=get_host(environ, self.config["TRUSTED_HOSTS"]),
                scheme=environ["wsgi.url_scheme"],
                authorization=environ.get("HTTP_AUTHORIZATION"),
                query_token=query.get("token"),
                cookie_token=token_in_cookie,
            )
            session = authenticate(asking, route.view, server.chat)
            assert session is not None, "the transport endpoints are not public"
            if meter is not None:
                meter.charge_session(server.metrics.session_wire(session))
            if route.serve is not None:
                route.serve(server, self.config, session, query, environ)
                body = b""  # never sent: the connection was a WebSocket
            else:
                assert route.answer is not None
                body = route.answer(server, self.config, session, query)
            answer: Answer = (200, [("Content-Type", JSON), ("Content-Length", str(len(body)))],
                              body)  # fmt: skip
        except ChatError as error:
            answer = error_answer(error)
        except HTTPException as error:  # an untrusted Host, as Flask refuses it
            answer = http_error_answer(error)
        except Exception as error:  # noqa: BLE001 - answered as Flask's handler answers it
            answer = unexpected_answer(error)
        if cookie_read:
            answer[1].append(("Vary", "Cookie"))  # as Flask marks an answer that read it
        return answer
