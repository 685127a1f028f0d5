"""HTTP/1.1 and WebSocket over a plain socket, keeping every byte that crosses it.

Client libraries hide the bytes a student should see; this connection hands back exactly
the bytes it sent and read, split where the protocol splits them. h11 frames the requests
and parses the answers (an answer's raw bytes are the span h11 consumed for it); after a
101, the codec of `wire.websocket` frames and parses the WebSocket.
"""

import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import h11

from wire.websocket import (
    BinaryMessage,
    Close,
    CloseCode,
    Endpoint,
    Event,
    Opcode,
    Ping,
    Pong,
    Role,
    TextMessage,
    close_payload,
)

_READ_SIZE = 65536
_CHUNK_END = 2  # the CRLF after a chunk's data, which h11 skips only once it reads on
_MAX_MESSAGE = 64 * 1024 * 1024  # the largest message taken from a server


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    raw: bytes  # every byte read for this answer
    head: bytes  # status line and headers, blank line included
    body: bytes  # the body with any chunk framing removed
    status: int
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Frame:
    raw: bytes  # the frame as it crossed the wire
    header_len: int  # FIN/opcode, length, extended length and masking key
    opcode: int
    payload: bytes  # unmasked


class RawConnection:
    """One TCP connection to a server on 127.0.0.1, HTTP first and WebSocket after a 101."""

    def __init__(self, host: str, port: int, timeout: float = 15.0,
                 rcvbuf: int | None = None) -> None:  # fmt: skip
        self.authority = f"{host}:{port}"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connecting, so that the window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.http = h11.Connection(h11.CLIENT)
        self._read = bytearray()  # every byte fed to h11, so that its answers' bytes can be kept
        self._mark = 0  # where in _read the next answer's bytes begin
        self.websocket: Endpoint | None = None  # once the server switched protocols
        self._unread = b""  # bytes after the 101, not yet given to the endpoint
        self._events: deque[Event] = deque()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv(self) -> bytes:
        chunk = self.sock.recv(_READ_SIZE)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    # -- HTTP -------------------------------------------------------------------------------

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes = b"",
                after: bytes = b"") -> bytes:  # fmt: skip
        """Send one request, framed by h11, and `after` in the same write (frames right
        behind an upgrade request, say); returns the request's bytes."""
        if self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
            self.http.start_next_cycle()
        fields = [("Host", self.authority), *headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            fields.append(("Content-Length", str(len(body))))
        data = self.http.send(h11.Request(method=method, target=target, headers=fields)) or b""
        if body:
            data += self.http.send(h11.Data(data=body)) or b""
        data += self.http.send(h11.EndOfMessage()) or b""
        self.send(data + after)
        return data

    def _consumed(self) -> int:
        return len(self._read) - len(self.http.trailing_data[0])

    def _next_http_event(self) -> h11.Event:
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                chunk = self._recv()
                self._read += chunk
                self.http.receive_data(chunk)
                continue
            if event is h11.PAUSED:
                raise RuntimeError("the server switched protocols: read WebSocket frames now")
            return event

    def _take(self, end: int) -> bytes:
        """The bytes from the mark up to `end`, which becomes the mark."""
        data, self._mark = bytes(self._read[self._mark : end]), end
        return data

    def read_head(self) -> tuple[bytes, int, dict[str, str]]:
        """The next answer's status line and headers: (their bytes, status, headers)."""
        event = self._next_http_event()
        if not isinstance(event, h11.Response | h11.InformationalResponse):
            raise RuntimeError(f"expected an answer's head, got {event!r}")
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers}
        return self._take(self._consumed()), event.status_code, headers

    def read_chunk(self) -> tuple[bytes, bytes]:
        """One chunk of a chunked body, as it arrives: (its bytes with framing, its data)."""
        data = b""
        while True:
            event = self._next_http_event()
            if isinstance(event, h11.EndOfMessage):  # the last chunk, of size 0
                return self._take(self._consumed()), data
            if isinstance(event, h11.Data):
                data += event.data
                if event.chunk_end:
                    end = self._consumed() + _CHUNK_END
                    while len(self._read) < end:
                        chunk = self._recv()
                        self._read += chunk
                        self.http.receive_data(chunk)
                    return self._take(end), data

    def read_answer(self) -> HttpAnswer:
        """A whole answer (a 101 is a head alone); the raw bytes include any chunk framing."""
        start = self._mark
        head, status, headers = self.read_head()
        body = b""
        if status != 101:
            while not isinstance(event := self._next_http_event(), h11.EndOfMessage):
                if isinstance(event, h11.Data):
                    body += event.data
        self._take(self._consumed())
        return HttpAnswer(bytes(self._read[start : self._mark]), head, body, status, headers)

    # -- WebSocket, after a 101 -----------------------------------------------------------

    def open_websocket(self) -> Endpoint:
        """The client end of the WebSocket the server just switched to."""
        if self.http.our_state is not h11.SWITCHED_PROTOCOL:
            raise RuntimeError("the server has not switched to WebSocket")
        self._unread = self.http.trailing_data[0]
        self.websocket = Endpoint(Role.CLIENT, _MAX_MESSAGE)
        return self.websocket

    def _unread_or_recv(self) -> bytes:
        data, self._unread = self._unread or self._recv(), b""
        return data

    def next_event(self) -> Event:
        """The next event from the server (ConnectionError if it hung up first)."""
        assert self.websocket is not None
        while not self._events:
            self._events.extend(self.websocket.receive(self._unread_or_recv()))
        return self._events.popleft()

    def read_frame(self) -> Frame:
        """The next frame with the bytes it took on the wire. The bytes are fed to the
        endpoint one at a time, so that a frame ends where its event comes out: slow, and
        only for a capture of a few frames, from a server that sends each message whole."""
        assert self.websocket is not None
        raw = bytearray()
        while True:
            data = self._unread_or_recv()
            for end in range(1, len(data) + 1):
                events = self.websocket.receive(data[end - 1 : end])
                if events:
                    self._unread = data[end:]
                    raw += data[:end]
                    (event,) = events
                    opcode, payload = _opcode_and_payload(event)
                    return Frame(bytes(raw), len(raw) - len(payload), opcode, payload)
            raw += data


def _opcode_and_payload(event: Event) -> tuple[int, bytes]:
    match event:
        case TextMessage(data):
            return Opcode.TEXT, data
        case BinaryMessage(data):
            return Opcode.BINARY, data
        case Ping(data):
            return Opcode.PING, data
        case Pong(data):
            return Opcode.PONG, data
        case Close(code, reason):
            return Opcode.CLOSE, b"" if code == CloseCode.NO_STATUS else close_payload(code, reason)
    raise RuntimeError(f"the server broke the protocol: {event}")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Check `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.01)
