"""The peer: chatlab's chat served by Flask-SocketIO, for the sweep to measure beside chatlab.

Flask-SocketIO 5 (python-socketio, python-engineio) in async_mode "gevent", served the way
`SocketIO.run()` serves that mode — gevent's pywsgi `WSGIServer` with gevent-websocket's
`WebSocketHandler`, no access log — and taught what chatlab's own server does too: the
standard library monkey-patched first (as Flask-SocketIO's deployment notes ask for gevent),
`TCP_NODELAY` on every accepted socket, the file limit raised. Everything else is
Flask-SocketIO's default, as a production deployment runs it: no debug, its loggers off,
`ping_interval` 25 s and `ping_timeout` 20 s, `max_http_buffer_size` 1,000,000 bytes (above
chatlab's 64 KiB frame limit), HTTP compression of long-polling answers over 1 KiB when the
client accepts it, event handlers each in their own greenlet, Flask-SocketIO's managed
session. It speaks both of Engine.IO's transports: long polling (`transport=polling`) and
WebSocket.

The chat, in Socket.IO's words (the rules of docs/PROTOCOL.md, checked by chat_core's own
validation; no history, no cursors, no resuming — Flask-SocketIO has none):

- `POST /api/session` `{"name": …}` → `201 {"name", "token"}`; a held name → `409 name_taken`.
  A name is held for the life of the process.
- connect with `auth={"token": …}`; without a known token the connection is refused with
  `{"error": "unauthorized", "detail": …}` as the connect error's data.
- event `join` `{"room": …}` → ack `{"room", "members"}` (members in name order).
- event `send` `{"room" | "to": …, "text", "cid", "ts"}` → ack `{"id": N}`, or
  `{"error": code, "detail": sentence}`. The sender is the session's name, never a field.
- event `message` `{"id", "room", "to", "from", "text", "at", "cid", "ts"}` to every member of
  the room, the sender's own copy included (to the sender and the addressee of a private one),
  serialized once by python-socketio for every recipient.
- `/healthz`; `/api/metrics` in chatlab's shape: `{"transports": {name: counters},
  "process": lab.process_usage.process_usage()}`, per transport (`socketio_polling`,
  `socketio_websocket`, as their clients are named) the HTTP requests (a WebSocket counts
  once), connections open, deliveries handed to python-socketio, and for polling its polls and
  the empty ones. Bytes are not counted here: the lab counts them at the client.

    python -m loadtests.socketio_server --port 5202
"""

from gevent import monkey

monkey.patch_all()

import argparse
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from flask import Flask, jsonify, request
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room
from geventwebsocket.handler import WebSocketHandler

from chat_core import ChatError, ErrorCode, Limits
from chat_core.names import checked_name
from chat_core.validation import parse_send
from lab.process_usage import process_usage, raise_file_limit
from lab.servers import SOCKETIO_POLLING, SOCKETIO_WEBSOCKET
from loadtests.bare_broadcast import NoDelayServer

_ENGINEIO_TRANSPORTS = {"polling": SOCKETIO_POLLING, "websocket": SOCKETIO_WEBSOCKET}
_PERSONAL = "@"  # prefix of a user's own Socket.IO room: no room name may hold it
_EMPTY_PACKETS = frozenset(b"1236")  # Engine.IO close, ping, pong, noop: nothing for the app


def _counters(transport: str) -> dict[str, int]:
    polls = {"polls": 0, "empty_polls": 0} if transport == SOCKETIO_POLLING else {}
    return {"requests": 0, "open": 0, "delivered": 0, **polls}


class Chat:
    """Who is who and who is where; the counters. Touched only from the server's greenlets."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.names: dict[str, str] = {}  # token -> name
        self.taken: set[str] = set()
        self.rooms: dict[str, set[str]] = {}  # room -> names of its members
        self.joined: dict[str, set[str]] = {}  # name -> rooms it joined
        self.connections: dict[str, tuple[str, str]] = {}  # Socket.IO sid -> (name, transport)
        self.listeners: dict[str, Counter[str]] = {}  # Socket.IO room -> transport -> sids in it
        self.last_id = 0
        self.counters = {name: _counters(name) for name in _ENGINEIO_TRANSPORTS.values()}

    def login(self, raw_name: Any) -> tuple[str, str]:
        name = checked_name(raw_name, "name", self.limits.max_name)
        if name in self.taken:
            raise ChatError(ErrorCode.NAME_TAKEN, f"The name {name!r} is taken.")
        token = secrets.token_urlsafe(16)
        self.taken.add(name)
        self.names[token] = name
        self.joined[name] = set()
        return name, token

    # As chatlab's core does: a name already known needs no checking on every send.
    def room_name(self, value: Any) -> str:
        if isinstance(value, str) and value in self.rooms:
            return value
        return checked_name(value, "room name", self.limits.max_name)

    def user_name(self, value: Any) -> str:
        if isinstance(value, str) and value in self.taken:
            return value
        return checked_name(value, "recipient name", self.limits.max_name)

    def listen(self, room: str, transport: str) -> None:
        self.listeners.setdefault(room, Counter())[transport] += 1

    def delivered(self, rooms: Iterable[str]) -> None:
        """Count what an emit to these Socket.IO rooms hands out, per transport."""
        for room in rooms:
            for transport, count in self.listeners.get(room, {}).items():
                self.counters[transport]["delivered"] += count

    def disconnected(self, sid: str) -> None:
        name, transport = self.connections.pop(sid)
        self.counters[transport]["open"] -= 1
        for room in (_PERSONAL + name, *self.joined[name]):
            self.listeners[room][transport] -= 1

    def metrics(self) -> dict[str, Any]:
        return {"transports": self.counters, "process": process_usage()}


def create_app(limits: Limits | None = None) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    chat = Chat(limits or Limits())
    socketio = SocketIO(app, async_mode="gevent", logger=False, engineio_logger=False)

    @app.post("/api/session")
    def login() -> Any:
        body = request.get_json(force=True, silent=True)  # any Content-Type, as chatlab takes it
        try:
            name, token = chat.login(body.get("name") if isinstance(body, dict) else None)
        except ChatError as error:
            return jsonify(error.as_dict()), error.status
        return jsonify({"name": name, "token": token}), 201

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"ok": True})

    @app.get("/api/metrics")
    def metrics() -> Any:
        return jsonify(chat.metrics())

    @socketio.on("connect")
    def connect(auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        name = chat.names.get(token) if isinstance(token, str) else None
        if name is None:
            refusal = ChatError(ErrorCode.UNAUTHORIZED, "Log in, then connect with its token.")
            raise ConnectionRefusedError(str(refusal.code), refusal.as_dict())
        transport = _ENGINEIO_TRANSPORTS[request.args.get("transport", "polling")]
        chat.connections[request.sid] = (name, transport)
        chat.counters[transport]["open"] += 1
        for room in (_PERSONAL + name, *chat.joined[name]):  # a reconnect keeps its rooms
            join_room(room)
            chat.listen(room, transport)

    @socketio.on("disconnect")
    def disconnect(reason: Any = None) -> None:
        chat.disconnected(request.sid)

    @socketio.on("join")
    def join(data: Any) -> dict[str, Any]:
        name, transport = chat.connections[request.sid]
        try:
            room = checked_name(data.get("room") if isinstance(data, dict) else None,
                                "room name", chat.limits.max_name)  # fmt: skip
        except ChatError as error:
            return error.as_dict()
        members = chat.rooms.setdefault(room, set())
        if name not in members:
            members.add(name)
            chat.joined[name].add(room)
            join_room(room)
            chat.listen(room, transport)
        return {"room": room, "members": sorted(members)}

    @socketio.on("send")
    def send(data: Any) -> dict[str, Any]:
        name, _ = chat.connections[request.sid]
        try:
            wanted = parse_send(data, chat.limits, chat.room_name, chat.user_name)
            if wanted.room is not None:
                members = chat.rooms.get(wanted.room)
                if members is None:
                    raise ChatError(ErrorCode.NOT_FOUND, f"No room {wanted.room!r}.")
                if name not in members:
                    raise ChatError(ErrorCode.FORBIDDEN, f"Join {wanted.room!r} first.")
                rooms = [wanted.room]
            else:
                if wanted.to not in chat.taken:
                    raise ChatError(ErrorCode.NO_SUCH_USER, f"No user {wanted.to!r}.")
                rooms = list(dict.fromkeys((_PERSONAL + name, _PERSONAL + wanted.to)))
        except ChatError as error:
            return error.as_dict()
        chat.last_id += 1
        message = {"id": chat.last_id, "room": wanted.room, "to": wanted.to, "from": name,
                   "text": wanted.text, "at": time.time(), "cid": wanted.cid,
                   "ts": wanted.ts}  # fmt: skip
        emit("message", message, to=rooms)  # the sender's own copy included
        chat.delivered(rooms)
        return {"id": chat.last_id}

    app.wsgi_app = _Counting(app.wsgi_app, chat.counters)
    return app, socketio


class _Counting:
    """WSGI middleware: each Engine.IO request charged to its transport; polls and empty polls
    told apart by the answer's packets (an empty one holds only pings, no-ops or a close)."""

    def __init__(self, wsgi_app: Callable, counters: dict[str, dict[str, int]]) -> None:
        self.wsgi_app = wsgi_app
        self.counters = counters

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if not environ.get("PATH_INFO", "").startswith("/socket.io"):
            return self.wsgi_app(environ, start_response)
        transport = SOCKETIO_WEBSOCKET if "transport=websocket" in query else SOCKETIO_POLLING
        counters = self.counters[transport]
        counters["requests"] += 1
        answer = self.wsgi_app(environ, start_response)
        if transport == SOCKETIO_POLLING and environ["REQUEST_METHOD"] == "GET" and "sid=" in query:
            counters["polls"] += 1
            if isinstance(answer, list) and len(answer) == 1 and _empty_poll(answer[0]):
                counters["empty_polls"] += 1
        return answer


def _empty_poll(body: bytes) -> bool:
    # a compressed answer (over 1 KiB) is never empty; packets are split by a record separator
    return len(body) < 64 and all(p[:1] and p[0] in _EMPTY_PACKETS for p in body.split(b"\x1e"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002, help="0 picks a free port")
    args = parser.parse_args(argv)
    raise_file_limit()  # as `chatlab serve` does
    app, _ = create_app()
    server = NoDelayServer((args.host, args.port), app, handler_class=WebSocketHandler, log=None,
                     backlog=2048)  # fmt: skip
    server.start()
    host, port = server.address[:2]
    print(f"flask_socketio serving on http://{host}:{port}/", flush=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, server.stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
