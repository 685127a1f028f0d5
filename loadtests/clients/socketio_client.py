"""The chat over Socket.IO (the peer server, loadtests/socketio_server.py), in two modes: Engine.IO
long polling (`socketio_polling`) and Engine.IO over WebSocket (`socketio_websocket`).

A client of our own, speaking Socket.IO v5 (`socketio_packets`) the way python-socketio's and
the browser's clients do — log in over HTTP, connect with the token as the connect's `auth`,
`emit` with an ack for joins and sends, `message` events in — on the same I/O as chatlab's
own clients: geventhttpclient for HTTP, websocket-client for the handshake and then the
project's codec (wire.websocket) for every frame. Not python-socketio's `Client`: the load
generator could not drive the room of 100 with it (100 users, 10,000 deliveries a second;
server pinned to core 0, Locust to core 1, this shared machine, December 2026):

    client, against its server                  generator CPU      delivered/s   p50
    python-socketio 5.18 Client, websocket      86% (181 µs/msg)   4,742         1.8 s
    python-socketio 5.18 Client, polling        23% (544 µs/msg)   417, 173 connections lost
    this client, websocket                      42-48% (43-48 µs)  9,922-9,940   4.5-10 ms
    this client, polling                        60-90% (61-90 µs)  9,829-9,927   32-95 ms
    chatlab's WebSocket client, chatlab         38-44% (38-44 µs)  9,922-9,964   3.9-5.6 ms
    chatlab's long-polling client, chatlab      48-72% (48-74 µs)  9,763-9,858   62-117 ms

(python-socketio's client starts a thread — a greenlet under Locust — for every message it
receives, and decodes each twice; its polling rides on requests.)

Like the server, the session knows no cursor: a connection cut in the middle of a run loses
what was sent meanwhile, and a send cut off is not repeated (the server would not know it
for a repeat). Every request is reported to Locust: the HTTP ones by their channel, a
WebSocket connect, and every join and send timed from its emit to its ack.

Wire bytes are counted at the client: each socket's TCP_INFO (lab.wire_bytes) as it closes,
into `CLIENT_WIRE`, the process's tally, which can also be read at any moment (the sockets
still open included) for a measurement window.
"""

import itertools
import json
import socket
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gevent
import gevent.event
import gevent.lock
import gevent.socket
import websocket

from lab.servers import SOCKETIO_POLLING, SOCKETIO_WEBSOCKET
from lab.wire_bytes import read_wire_count
from wire.websocket import Close, Endpoint, Ping, Role, TextMessage, Violation

from . import socketio_packets as sio
from .base import ChatClient, ClientSettings, Fire, Inbox, SendFailed, SetupFailed
from .headers import http_headers, websocket_headers
from .http_clients import HttpChannel, HttpError

PATH = "/socket.io/"  # Flask-SocketIO's default
_READ_SIZE = 65536
_MAX_MESSAGE = 16 * 1024 * 1024
_POLL_TIMEOUT = 60.0  # s a poll may be held: above the server's ping interval plus timeout
_BROWSER_ONLY = "X-Chatlab-Transport"  # chatlab's own header, which no Socket.IO client sends


class ConnectionLost(Exception):
    pass


@dataclass
class WireTally:
    """The bytes of the sockets that have closed, counted at the client, in one process."""

    bytes_in: int = 0  # to the client (the server's downstream)
    bytes_out: int = 0  # from the client
    sockets: int = 0
    uncounted: int = 0  # sockets whose counts could not be read before they closed
    _counted: weakref.WeakSet = field(default_factory=weakref.WeakSet, repr=False)
    _open: weakref.WeakSet = field(default_factory=weakref.WeakSet, repr=False)

    def opened(self, sock: socket.socket) -> None:
        """A socket to count while it is open (`reading`), and as it closes (`add`)."""
        self._open.add(sock)

    def reading(self) -> dict[str, int]:
        """The bytes so far: the closed sockets' and the open ones' counts now. Two readings
        apart, every socket is in both (by its count then, or its final one), so their
        difference is what crossed between them."""
        bytes_in, bytes_out = self.bytes_in, self.bytes_out
        for sock in list(self._open):
            if sock in self._counted:
                continue
            count = read_wire_count(sock)
            if count is not None:
                bytes_in += count.bytes_in
                bytes_out += count.bytes_out
        return {"bytes_in": bytes_in, "bytes_out": bytes_out}

    def add(self, sock: socket.socket | None) -> None:
        """Count a socket that is about to close (once, however often it is named)."""
        if sock is None or sock in self._counted:
            return
        self._counted.add(sock)
        count = read_wire_count(sock)
        if count is None:
            self.uncounted += 1
            return
        self.sockets += 1
        self.bytes_in += count.bytes_in
        self.bytes_out += count.bytes_out

    def as_dict(self) -> dict[str, int]:
        return {"bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                "sockets": self.sockets, "uncounted": self.uncounted}  # fmt: skip

    def reset(self) -> None:
        self.bytes_in = self.bytes_out = self.sockets = self.uncounted = 0
        self._counted = weakref.WeakSet()
        self._open = weakref.WeakSet()


CLIENT_WIRE = WireTally()


class _CountedSocket(gevent.socket.socket):
    """A client socket that is tallied just before it closes, whoever closes it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        CLIENT_WIRE.opened(self)

    def close(self) -> None:
        CLIENT_WIRE.add(self)
        super().close()


class _CountedChannel(HttpChannel):
    """An HTTP channel whose every socket is tallied as it closes."""

    def __init__(self, base_url: str, fire: Fire, network_timeout: float) -> None:
        super().__init__(base_url, fire, network_timeout)
        # geventhttpclient's pool makes its sockets here (a factory meant to be overridden)
        self.client._connection_pool._create_tcp_socket = _CountedSocket


class SocketIOClient(ChatClient):
    """Login, the Socket.IO session and its acks; a subclass moves the packets."""

    engineio: ClassVar[str]  # Engine.IO's name of the transport

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        super().__init__(name, settings, fire, inbox)
        self.origin = settings.base_url.rstrip("/")
        self.api: _CountedChannel | None = None
        self._connected = gevent.event.Event()
        self._answers: dict[int, gevent.event.AsyncResult] = {}
        self._ack_ids = itertools.count(1)

    # -- HTTP ---------------------------------------------------------------------------------

    def _api(self) -> _CountedChannel:
        if self.api is None:
            self.api = _CountedChannel(self.origin, self.fire, self.settings.request_timeout)
        return self.api

    def http_headers(self, method: str) -> dict[str, str]:
        headers = http_headers(self.settings.header_profile, self.transport, self.origin,
                               method, accept="*/*")  # fmt: skip
        headers.pop(_BROWSER_ONLY, None)
        if method == "POST" and self.settings.header_profile == "browser":
            headers["Content-Type"] = "text/plain;charset=UTF-8"  # as engine.io-client posts
        return headers

    def login(self) -> None:
        body = json.dumps({"name": self.name}).encode()
        try:
            _, _, data = self._api().request("POST", "/api/session",
                                             f"{self.transport} /api/session",
                                             self.http_headers("POST"), body)  # fmt: skip
            self.token = json.loads(data)["token"]
        except Exception as error:
            raise SetupFailed(f"login failed: {error}") from error

    def release_api(self) -> None:
        if self.api is not None:
            self.api.close()
            self.api = None

    # -- the Socket.IO session -----------------------------------------------------------------

    def start_receiving(self) -> None:
        super().start_receiving()
        if not self._connected.wait(self.settings.request_timeout):
            raise SetupFailed(f"the Socket.IO connection over {self.engineio} did not open")

    def join(self, room: str) -> None:
        try:
            self._ask("join", {"room": room}, f"{self.transport} join")
        except (SendFailed, ConnectionLost) as error:
            raise SetupFailed(f"join failed: {error}") from error

    def send(self, text: str, cid: str, ts: float, room: str | None = None,
             to: str | None = None) -> int:  # fmt: skip
        data: dict[str, Any] = {"room": room} if room is not None else {"to": to}
        data.update(text=text, cid=cid, ts=ts)
        try:
            return int(self._ask("send", data, f"{self.transport} send")["id"])
        except ConnectionLost as error:
            if not self._closing:
                self.fire("SIO", f"{self.transport} send", None, 0, error)
            raise SendFailed(str(error)) from error

    def _ask(self, event: str, data: Any, name: str) -> dict[str, Any]:
        """Emit with an ack id and wait for the reader to hand over the ack's argument."""
        timeout = self.settings.request_timeout
        if not self._connected.wait(timeout):
            raise ConnectionLost("not connected")
        ack_id = next(self._ack_ids)
        packet = sio.event(ack_id, event, data)
        answer = self._answers[ack_id] = gevent.event.AsyncResult()
        started = time.perf_counter()
        try:
            self._emit(packet)
            args = answer.get(timeout=timeout)
        except ConnectionLost:
            raise
        except (Exception, gevent.Timeout) as error:  # gevent's Timeout is no Exception
            self.fire("SIO", name, (time.perf_counter() - started) * 1000, len(packet), error)
            raise SendFailed(str(error)) from error
        finally:
            self._answers.pop(ack_id, None)
        elapsed = (time.perf_counter() - started) * 1000
        value = args[0] if args and isinstance(args[0], dict) else {}
        if "error" in value or not args:
            failure = SendFailed(f"{value.get('error')}: {value.get('detail')}")
            self.fire("SIO", name, elapsed, len(packet), failure)
            raise failure
        self.fire("SIO", name, elapsed, len(packet), None)
        return value

    def _take(self, packet: bytes, arrival: float) -> None:
        """One Engine.IO packet from the server."""
        match sio.read(packet):
            case sio.Event("message", message, size):
                self.deliver(message, arrival, size)
            case sio.Ack(ack_id, args):
                answer = self._answers.get(ack_id)
                if answer is not None:
                    answer.set(args)
            case sio.Ping():
                self._emit(sio.PONG)
            case sio.Opened():
                self._emit(sio.connect({"token": self.token}))
            case sio.Connected():
                self._connected.set()
                self.connection_healthy()
            case sio.Refused(data):
                raise ConnectionLost(f"the server refused the connection: {data}")
            case sio.Closed(why):
                raise ConnectionLost(why)

    def _ended(self) -> None:
        """The connection is gone: nothing more is answered on it."""
        self._connected.clear()
        for answer in list(self._answers.values()):
            answer.set_exception(ConnectionLost("the connection ended before the answer"))

    def _emit(self, packet: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        super().close()
        self.release_api()


class SocketIOPollingClient(SocketIOClient):
    """Engine.IO long polling: a handshake GET, then one GET held open at a time on the
    receiving connection; the connect, every emit and every pong POSTed on the API
    connection (so a user holds two keep-alive connections, as chatlab's long polling does).
    Each GET and POST carries `t=`, a fresh cache-buster, as engine.io-client's do."""

    transport: ClassVar[str] = SOCKETIO_POLLING
    engineio: ClassVar[str] = "polling"

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        super().__init__(name, settings, fire, inbox)
        self.receiving = _CountedChannel(self.origin, fire, _POLL_TIMEOUT)
        self._sid: str | None = None
        self._requests = itertools.count(1)
        self._posting = gevent.lock.Semaphore()  # one POST at a time per session, in order

    def _path(self) -> str:
        path = f"{PATH}?EIO=4&transport=polling&t={next(self._requests):x}"
        return path if self._sid is None else f"{path}&sid={self._sid}"

    def _receive(self) -> None:
        self._sid = None
        try:
            _, _, body = self.receiving.request("GET", self._path(),
                                                f"{self.transport} handshake",
                                                self.http_headers("GET"))  # fmt: skip
            packets = sio.split(body)
            opened = sio.read(packets[0]) if packets else None
            if not isinstance(opened, sio.Opened):
                raise ConnectionLost(f"no Engine.IO open packet: {body[:100]!r}")
            self._sid = opened.sid
            self._take_all(packets, time.time())
            while not self._closing:
                _, _, body = self.receiving.request("GET", self._path(), f"{self.transport} poll",
                                                    self.http_headers("GET"))  # fmt: skip
                self._take_all(sio.split(body), time.time())
        except HttpError as error:
            raise ConnectionLost(str(error)) from error
        finally:
            self._ended()

    def _take_all(self, packets: list[bytes], arrival: float) -> None:
        for packet in packets:  # every packet of one answer arrived together
            self._take(packet, arrival)

    def _emit(self, packet: bytes) -> None:
        if self._sid is None:
            raise ConnectionLost("not connected")
        with self._posting:
            try:
                self._api().request("POST", self._path(), f"{self.transport} POST",
                                    self.http_headers("POST"), packet)  # fmt: skip
            except Exception as error:
                raise ConnectionLost(str(error)) from error

    def _cut(self) -> None:
        self.receiving.cut()

    def close(self) -> None:
        super().close()
        self.receiving.close()


class SocketIOWebSocketClient(SocketIOClient):
    """Engine.IO over WebSocket from the start (no polling first, no upgrade): one
    connection carries everything; one greenlet reads it in bulk, as chatlab's client does."""

    transport: ClassVar[str] = SOCKETIO_WEBSOCKET
    engineio: ClassVar[str] = "websocket"

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        super().__init__(name, settings, fire, inbox)
        self.ws: websocket.WebSocket | None = None
        self._link: tuple[socket.socket, Endpoint] | None = None
        self._writing = gevent.lock.Semaphore()

    def login(self) -> None:
        super().login()
        self.release_api()  # everything else goes over the WebSocket

    def _receive(self) -> None:
        headers, origin = websocket_headers(self.settings.header_profile, self.origin, None, None)
        url = "ws" + self.origin.removeprefix("http") + f"{PATH}?EIO=4&transport=websocket"
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
        CLIENT_WIRE.opened(ws.sock)
        self.ws = ws
        link = self._link = (ws.sock, Endpoint(Role.CLIENT, _MAX_MESSAGE))
        try:
            self._read_frames(*link)
        finally:
            self._link = None
            self._ended()
            CLIENT_WIRE.add(link[0])
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

    def _emit(self, packet: bytes) -> None:
        link = self._link
        if link is None:
            raise ConnectionLost("not connected")
        sock, endpoint = link
        try:
            self._write(sock, endpoint.send_text(packet))
        except OSError as error:
            raise ConnectionLost(str(error)) from error

    def _write(self, sock: socket.socket, data: bytes) -> None:
        with self._writing:
            sock.sendall(data)

    def _cut(self) -> None:
        if self.ws is not None:
            self.ws.abort()

    def close(self) -> None:
        super().close()
        if self.ws is not None:
            CLIENT_WIRE.add(self.ws.sock)  # now: the reader may be stopped after the run ends
            self.ws.abort()
