"""The baseline: a bare broadcast loop on chatlab's own stack, and nothing else.

gevent's WSGIServer with gevent-websocket's handler, no Flask, no chat core, no streams, no
cursors, no limits. It speaks just enough of docs/PROTOCOL.md for `loadtests/ws.py` to run the same
scenario against it: `POST /api/session`, `GET /ws` with `join` and `send` frames, `message`
and `ack` frames back, and `/healthz` and `/api/metrics` (CPU, memory, connections; no byte
counts). A message is serialized once and written to every member's socket from the
sender's greenlet, under a per-socket lock so that frames never interleave, with
gevent-websocket's own `ws.send` (which frames and UTF-8-encodes the text per recipient).
What chatlab's server spends per delivered message beyond this loop is the price of its
guarantees (streams, cursors, retention, one writer per connection, metering).

    python -m loadtests.bare_broadcast --port 5201
"""

import argparse
import json
import secrets
import signal
import socket
import sys
import time
from http.cookies import SimpleCookie
from typing import Any

import gevent
import gevent.lock
from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler

from lab.process_usage import process_usage

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Peer:
    __slots__ = ("ws", "lock")

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.lock = gevent.lock.Semaphore()

    def send(self, text: str) -> bool:
        try:
            with self.lock:
                self.ws.send(text)  # gevent-websocket frames (and UTF-8-encodes) it per call
            return True
        except Exception:  # noqa: BLE001 - a dead peer is simply skipped
            return False


class BareBroadcast:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # token -> name
        self.peers: dict[str, Peer] = {}
        self.rooms: dict[str, set[str]] = {}
        self.last_id = 0
        self.counters = {"requests": 0, "open": 0, "delivered": 0, "empty_polls": 0}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/ws" and environ.get("wsgi.websocket") is not None:
            name = self.names.get(_token(environ) or "")
            if name is not None:
                self.serve(environ["wsgi.websocket"], name)
            return []
        if path == "/healthz":
            return _json(start_response, "200 OK", {"ok": True})
        if path == "/api/metrics":
            return _json(start_response, "200 OK", self.metrics())
        if path == "/api/session" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            name = json.loads(environ["wsgi.input"].read(length) or b"{}").get("name", "")
            token = secrets.token_urlsafe(16)
            self.names[token] = name
            cookie = ("Set-Cookie", f"chatlab={token}; Path=/; HttpOnly")
            return _json(start_response, "201 Created",
                         {"name": name, "token": token, "cursor": 0}, [cookie])  # fmt: skip
        return _json(start_response, "404 Not Found", {"error": "not_found"})

    def serve(self, ws: Any, name: str) -> None:
        peer = self.peers[name] = Peer(ws)
        self.counters["requests"] += 1
        self.counters["open"] += 1
        try:
            while True:
                raw = ws.receive()
                if raw is None:
                    return
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "send":
                    self.broadcast(name, frame)
                    peer.send(_encode({"type": "ack", "cid": frame.get("cid"), "id": self.last_id}))
                elif kind == "join":
                    members = self.rooms.setdefault(frame["room"], set())
                    members.add(name)
                    peer.send(_encode({"type": "joined", "room": frame["room"],
                                       "members": sorted(members)}))  # fmt: skip
        except Exception:  # noqa: BLE001 - a broken connection ends its own loop only
            return
        finally:
            self.counters["open"] -= 1
            if self.peers.get(name) is peer:
                del self.peers[name]

    def broadcast(self, sender: str, frame: dict[str, Any]) -> None:
        self.last_id += 1
        room, to = frame.get("room"), frame.get("to")
        message = {"id": self.last_id, "room": room, "to": to, "from": sender,
                   "text": frame.get("text"), "at": time.time(), "cid": frame.get("cid"),
                   "ts": frame.get("ts")}  # fmt: skip
        data = _encode({"type": "message", "message": message})  # serialized once for everyone
        recipients = self.rooms.get(room, set()) if room is not None else {sender, to}
        for member in list(recipients):
            peer = self.peers.get(member)
            if peer is not None and peer.send(data):
                self.counters["delivered"] += 1

    def metrics(self) -> dict[str, Any]:
        return {"transports": {"websocket": dict(self.counters)}, "process": process_usage()}


def _token(environ: dict[str, Any]) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get("chatlab")
    return morsel.value if morsel is not None else None


def _json(start_response: Any, status: str, body: Any, extra: list | None = None) -> list[bytes]:
    data = _encode(body).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, headers + (extra or []))
    return [data]


class NoDelayServer(WSGIServer):
    """gevent's WSGIServer with TCP_NODELAY on every accepted socket (the baseline's and the
    Flask-SocketIO peer's)."""

    def handle(self, sock: socket.socket, address: Any) -> None:
        # as chatlab's server does: no Nagle delay on small frames
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = NoDelayServer((args.host, args.port), BareBroadcast(), handler_class=WebSocketHandler,
                     log=None, backlog=2048)  # fmt: skip
    server.start()
    host, port = server.address[:2]
    print(f"bare_broadcast serving on http://{host}:{port}/", flush=True)
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, server.stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
