"""WebSocket: login over HTTP, then one connection that carries joins, sends and messages.

websocket-client (made cooperative by Locust's gevent patching) does the handshake; after
the 101 every frame, both ways, is the codec's (wire.websocket). One greenlet per user reads
the socket in bulk and feeds each read to the connection's endpoint. A send or join waits for
its answer (`ack`, `joined`, or an `error` with its cid) from that reader, so a WebSocket
send is timed to its acknowledgement as an HTTP send is timed to its response.
"""

import json
import socket
import time
from typing import Any, ClassVar

import gevent
import gevent.event
import gevent.lock
import websocket

from chat_core import Transport
from wire.websocket import Close, Endpoint, Ping, Role, TextMessage, Violation

from .base import ChatClient, ClientSettings, Fire, Inbox, SendFailed, SetupFailed
from .headers import websocket_headers
from .http_clients import HttpChannel, login_over_http

_ENVELOPE = len(b'{"type":"message","message":}')  # around each message's own JSON
_READ_SIZE = 65536
_MAX_MESSAGE = 16 * 1024 * 1024  # the largest message taken from the server
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
        self._link: tuple[socket.socket, Endpoint] | None = None  # of the open connection
        self._writing = gevent.lock.Semaphore()  # sends and the reader's answers share a socket
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
        data = json.dumps(frame, separators=(",", ":")).encode()
        answer = self._answers[key] = gevent.event.AsyncResult()
        started = time.perf_counter()
        try:
            link = self._link
            if link is None:
                raise ConnectionLost("not connected")
            sock, endpoint = link
            try:
                self._write(sock, endpoint.send_text(data))
            except OSError as error:
                self._forget(link)  # the next attempt waits for the reader to reconnect
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
        link = self._link = (ws.sock, Endpoint(Role.CLIENT, _MAX_MESSAGE))
        self._connected.set()
        self.connection_healthy()
        try:
            self._read_frames(*link)
        finally:
            self._connected.clear()
            self._link = None
            for answer in list(self._answers.values()):
                answer.set_exception(ConnectionLost("the connection ended before the answer"))
            ws.shutdown()

    def _read_frames(self, sock: socket.socket, endpoint: Endpoint) -> None:
        while not self._closing:
            data = sock.recv(_READ_SIZE)
            if not data:
                raise ConnectionLost("the server closed the connection without a close frame")
            arrival = time.time()  # every frame in one read arrived together
            for event in endpoint.receive(data):
                match event:
                    case TextMessage(payload):
                        self._take(payload, arrival)
                    case Ping(payload):
                        self._write(sock, endpoint.pong(payload))
                    case Close():
                        self._write(sock, endpoint.close(event.answer_code))
                        return
                    case Violation(code, reason):
                        self._write(sock, endpoint.close(code, reason))
                        raise ConnectionLost(f"the server broke the protocol: {reason}")

    def _forget(self, link: tuple[socket.socket, Endpoint]) -> None:
        """A write found the connection dead before its reader did."""
        if self._link is link:
            self._link = None
            self._connected.clear()

    def _write(self, sock: socket.socket, data: bytes) -> None:
        with self._writing:
            sock.sendall(data)

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
