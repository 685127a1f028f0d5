"""WebSocket: login over HTTP, then one connection that carries joins, sends and messages.

websocket-client (made cooperative by Locust's gevent patching) makes the connection and
sends; one greenlet per user reads the socket in bulk and splits it into frames (ws_frames).
A send or join waits for its answer (`ack`, `joined`, or an `error` with its cid) from that
reader, so a WebSocket send is timed to its acknowledgement as an HTTP send is timed to its
response.
"""

import json
import socket
import time
from typing import Any, ClassVar

import gevent
import gevent.event
import websocket

from chat_core import Transport

from .base import ChatClient, ClientSettings, Fire, Inbox, SendFailed, SetupFailed
from .headers import websocket_headers
from .http_clients import HttpChannel, login_over_http
from .ws_frames import OP_CLOSE, OP_PING, OP_TEXT, ServerFrames

_ENVELOPE = len(b'{"type":"message","message":}')  # around each message's own JSON
_READ_SIZE = 65536
_SEND_ATTEMPTS = 3  # a send cut off by a dropped connection is repeated (same cid) this often


class ConnectionLost(Exception):
    pass


class WebSocketClient(ChatClient):
    transport: ClassVar[str] = Transport.WEBSOCKET

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        super().__init__(name, settings, fire, inbox)
        self.origin = settings.base_url.rstrip("/")
        self.api: HttpChannel | None = HttpChannel(self.origin, fire, settings.request_timeout)
        self.ws: websocket.WebSocket | None = None
        self._connected = gevent.event.Event()
        self._answers: dict[str, gevent.event.AsyncResult] = {}

    def login(self) -> None:
        assert self.api is not None
        self.token, self.cookie, self.cursor = login_over_http(
            self.api, self.name, self.transport, self.origin, self.settings.header_profile
        )
        self.release_api()  # everything else goes over the WebSocket

    def release_api(self) -> None:
        if self.api is not None:
            self.api.close()
            self.api = None

    def start_receiving(self) -> None:
        super().start_receiving()
        if not self._connected.wait(self.settings.request_timeout):
            raise SetupFailed("the WebSocket did not open")

    def join(self, room: str) -> None:
        try:
            self._ask(f"join:{room}", {"type": "join", "room": room}, f"{self.transport} join")
        except (SendFailed, ConnectionLost) as error:
            raise SetupFailed(f"join failed: {error}") from error

    def send(self, text: str, cid: str, ts: float, room: str | None = None,
             to: str | None = None) -> int:  # fmt: skip
        frame: dict[str, Any] = {"type": "send"}
        frame.update({"room": room} if room is not None else {"to": to})
        frame.update(text=text, cid=cid, ts=ts)
        for attempt in range(1, _SEND_ATTEMPTS + 1):
            try:
                return int(self._ask(f"ack:{cid}", frame, f"{self.transport} send"))
            except ConnectionLost as error:
                if attempt == _SEND_ATTEMPTS or self._closing:
                    if not self._closing:
                        self.fire("WS", f"{self.transport} send", None, 0, error)
                    raise SendFailed(str(error)) from error
        raise AssertionError("unreachable")

    def _ask(self, key: str, frame: dict[str, Any], name: str) -> Any:
        """Send a frame and wait for the reader to hand over its answer."""
        timeout = self.settings.request_timeout
        if not self._connected.wait(timeout):
            raise ConnectionLost("not connected")
        data = json.dumps(frame, separators=(",", ":"))
        answer = self._answers[key] = gevent.event.AsyncResult()
        started = time.perf_counter()
        try:
            ws = self.ws
            assert ws is not None
            try:
                ws.send(data)
            except (OSError, websocket.WebSocketException) as error:
                if self.ws is ws:
                    # Dead before the reader noticed (a cut in this same turn of the loop):
                    # a repeat must wait for the next connection, not fail on this one.
                    self._connected.clear()
                raise ConnectionLost(str(error)) from error
            value = answer.get(timeout=timeout)
        except ConnectionLost:
            raise  # not reported: the send is repeated on the next connection
        except SendFailed as error:
            self.fire("WS", name, (time.perf_counter() - started) * 1000, len(data), error)
            raise
        except Exception as error:
            self.fire("WS", name, (time.perf_counter() - started) * 1000, len(data), error)
            raise SendFailed(str(error)) from error
        finally:
            self._answers.pop(key, None)
        self.fire("WS", name, (time.perf_counter() - started) * 1000, len(data), None)
        return value

    def _receive(self) -> None:
        headers, origin = websocket_headers(
            self.settings.header_profile, self.origin, self.token, self.cookie
        )
        url = "ws" + self.origin.removeprefix("http") + f"/ws?since={self.cursor}"
        started = time.perf_counter()
        try:
            ws = websocket.create_connection(
                url,
                header=headers,
                origin=origin,
                suppress_origin=origin is None,
                timeout=self.settings.request_timeout,
                skip_utf8_validation=True,  # the server's JSON is checked by json.loads anyway
                sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
            )
        except Exception as error:
            if not self._closing:
                self.fire("WS", f"{self.transport} connect",
                          (time.perf_counter() - started) * 1000, 0, error)  # fmt: skip
            raise
        self.fire("WS", f"{self.transport} connect", (time.perf_counter() - started) * 1000, 0,
                  None)  # fmt: skip
        ws.settimeout(None)  # a quiet room is not a dead connection
        self.ws = ws
        self._connected.set()
        self.connection_healthy()
        try:
            self._read_frames(ws)
        finally:
            self._connected.clear()
            for answer in list(self._answers.values()):
                answer.set_exception(ConnectionLost("the connection ended before the answer"))
            ws.shutdown()

    def _read_frames(self, ws: websocket.WebSocket) -> None:
        frames = ServerFrames()
        sock = ws.sock
        while not self._closing:
            data = sock.recv(_READ_SIZE)
            if not data:
                raise ConnectionLost("the server closed the connection without a close frame")
            arrival = time.time()  # every frame in one read arrived together
            for opcode, payload in frames.feed(data):
                if opcode == OP_TEXT:
                    self._take(payload, arrival)
                elif opcode == OP_CLOSE:
                    ws.send_close()
                    return
                elif opcode == OP_PING:
                    ws.pong(payload)

    def _take(self, data: bytes, arrival: float) -> None:
        frame = json.loads(data)
        kind = frame.get("type")
        if kind == "message":
            self.deliver(frame["message"], arrival, len(data) - _ENVELOPE)
        elif kind == "ack":
            self._answer(f"ack:{frame.get('cid')}", frame.get("id"))
        elif kind == "joined":
            self._answer(f"join:{frame.get('room')}", frame.get("members"))
        elif kind == "gap":
            self.inbox.gap()
        elif kind == "error":
            failure = SendFailed(f"{frame.get('error')}: {frame.get('detail')}")
            if not self._answer(f"ack:{frame.get('cid')}", failure):
                self.fire("WS", f"{self.transport} error frame", None, len(data), failure)

    def _answer(self, key: str, value: Any) -> bool:
        answer = self._answers.get(key)
        if answer is None:
            return False
        if isinstance(value, BaseException):
            answer.set_exception(value)
        else:
            answer.set(value)
        return True

    def _cut(self) -> None:
        if self.ws is not None:
            self.ws.abort()

    def close(self) -> None:
        super().close()
        self.release_api()
        if self.ws is not None:
            self.ws.abort()
