"""The transport endpoints, served in front of Flask: WSGI middleware on `app.wsgi_app`.

A poll is the request a client makes many times a second, and through Flask most of its cost
was Flask's: the request context, URL matching, the before_request chain, the session
interface and a `Response` object, for an answer that is a few bytes of JSON. Flask-SocketIO
does the same for its endpoints (Engine.IO is WSGI middleware in front of the app). The
gateway answers `GET /api/poll`, `GET /api/longpoll`, `POST /api/messages` (the polling
clients' sends) and the upgrade `GET /ws` itself, by the same rules as every other request:
`auth.authenticate` decides who is asking (Origin, session, stream quota), `errors` words
every refusal, the meter charges the request to its transport and session, and the
endpoint's own module works out the answer. Everything else (other methods, other paths,
`/ws` without `Upgrade: websocket` or under a server that cannot upgrade) goes on to Flask,
whose routes for these endpoints stay registered (HEAD, 405 with Allow, 400 and 503 for
`/ws`, the docs). A WebSocket served here holds no Flask request context for its life.

It is a plain WSGI callable: under gunicorn or behind nginx it serves as under chatlab's own
server (a server that cannot upgrade sends `/ws` on to Flask's 503).

Measured (20 long-poll clients in one room, a message a second each, server alone on core 0,
Locust on core 1, µs of server CPU per delivered message, four alternating rounds on the
shared lab machine): through Flask 425-589, through the gateway 228-315, Flask-SocketIO's
long polling in the same rounds 271-376. py-spy before: 48% of the server's samples inside
Flask.__call__; after, ~19% in the gateway (the poll's own work, chat.wait included).
Short polling, 100 clients: 788-908 µs of server CPU per request before, 472-518 after.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.wsgi import get_host, get_input_stream

from chat_core import TRANSPORT_HEADER, ChatError, Session, Transport

from . import api, long_poll, short_poll, websocket
from .auth import Asking, authenticate
from .cookie_sessions import cookie_token
from .errors import Answer, error_answer, http_error_answer, status_line, unexpected_answer
from .http_body import JSON, json_object
from .metrics import API, COUNTED
from .state import ServerState

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]
Environ = dict[str, Any]
# what a route does once the caller is known: (status, JSON body), or None once it has
# served the connection itself (a WebSocket, whose HTTP answer is never sent)
Serving = Callable[[ServerState, Mapping[str, Any], Session, Mapping[str, str], Environ],
                   tuple[int, bytes] | None]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    view: Callable  # Flask's view for the same endpoint: its marks (public, streaming…) apply
    serve: Serving
    transport: str | None = None  # whose counters it is charged to; None: as the client says
    upgrade: bool = False  # only an upgrade to WebSocket, on a server that can make it


def _poll(answer: Callable) -> Serving:
    def serve(server: ServerState, config: Mapping[str, Any], session: Session,
              query: Mapping[str, str], environ: Environ) -> tuple[int, bytes]:  # fmt: skip
        return 200, answer(server, config, session, query)

    return serve


def _send(server: ServerState, config: Mapping[str, Any], session: Session,
          query: Mapping[str, str], environ: Environ) -> tuple[int, bytes]:  # fmt: skip
    # as Flask reads a body: past MAX_CONTENT_LENGTH, 413 (RequestEntityTooLarge)
    raw = get_input_stream(environ, max_content_length=config["MAX_CONTENT_LENGTH"]).read()
    return api.send_answer(server.chat, session, json_object(raw))


def _websocket(server: ServerState, config: Mapping[str, Any], session: Session,
               query: Mapping[str, str], environ: Environ) -> None:  # fmt: skip
    websocket.serve(server, config, session, query, environ)


ROUTES = {
    "/api/poll": Route("GET", short_poll.poll, _poll(short_poll.answer), Transport.SHORT_POLL),
    "/api/longpoll": Route(
        "GET", long_poll.long_poll, _poll(long_poll.answer), Transport.LONG_POLL
    ),  # fmt: skip
    "/api/messages": Route("POST", api.send_message, _send),
    "/ws": Route("GET", websocket.websocket, _websocket, Transport.WEBSOCKET, upgrade=True),
}


def _wants_upgrade(environ: Environ) -> bool:
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
    if "%" not in query_string and "+" not in query_string and query_string.isascii():
        # nothing to decode (a client's `since=N&timeout=T`): split as parse_qsl splits
        for field in query_string.split("&"):
            if field:
                name, _, value = field.partition("=")
                found.setdefault(name, value)
        return found
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

    def __call__(self, environ: Environ, start_response: Callable) -> Iterable[bytes]:
        route = ROUTES.get(environ.get("PATH_INFO", ""))
        if (
            route is None
            or environ.get("REQUEST_METHOD") != route.method
            or (route.upgrade and not _wants_upgrade(environ))
        ):
            return self.flask_wsgi(environ, start_response)
        status, headers, body = self.answer(route, environ)
        start_response(status_line(status), headers)
        return [body]

    def _charged(self, route: Route, environ: Environ) -> str:
        if route.transport is not None:
            return route.transport
        declared = environ.get("HTTP_" + TRANSPORT_HEADER.upper().replace("-", "_"), API)
        return declared if declared in COUNTED else API

    def _host(self, environ: Environ) -> str:
        """The Host as Flask reads it; refused (SecurityError, 400) as Flask refuses it when
        TRUSTED_HOSTS is set. Read only when needed: the rules read it only for a browser."""
        trusted = self.config["TRUSTED_HOSTS"]
        if trusted is None and "HTTP_ORIGIN" not in environ:
            return ""
        return get_host(environ, trusted)

    def answer(self, route: Route, environ: Environ) -> Answer:
        server, config = self.server, self.config
        meter = environ.get("chatlab.meter")
        if meter is not None:
            meter.begin(server.metrics.transports[self._charged(route, environ)])
        cookie_read = False

        def token_in_cookie() -> str | None:
            nonlocal cookie_read
            cookie_read = True
            return cookie_token(self.app, environ)

        try:
            query = query_of(environ.get("QUERY_STRING", ""))
            asking = Asking(
                method=route.method,
                origin=environ.get("HTTP_ORIGIN"),
                host=self._host(environ),
                scheme=environ["wsgi.url_scheme"],
                authorization=environ.get("HTTP_AUTHORIZATION"),
                query_token=query.get("token"),
                cookie_token=token_in_cookie,
            )
            session = authenticate(asking, route.view, server.chat)
            assert session is not None, "the transport endpoints are not public"
            if meter is not None:
                meter.charge_session(server.metrics.session_wire(session))
            served = route.serve(server, config, session, query, environ)
            status, body = (200, b"") if served is None else served
            answer: Answer = (status, [("Content-Type", JSON), ("Content-Length", str(len(body)))],
                              body)  # fmt: skip
        except ChatError as error:
            answer = error_answer(error)
        except HTTPException as error:  # an untrusted Host, a body too large: as Flask says
            answer = http_error_answer(error)
        except Exception as error:  # noqa: BLE001 - answered as Flask's handler answers it
            answer = unexpected_answer(error)
        if cookie_read:
            answer[1].append(("Vary", "Cookie"))  # as Flask marks an answer that read it
        return answer
