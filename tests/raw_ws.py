"""A WebSocket client with nothing hidden, for feeding a server exactly the bytes a test wants:
handshakes that should be refused, oversized or lying frames, readers that never read.

The connection is the wire capture's (reports.raw_wire); every frame, true or lying, is built
with the codec's primitives (wire.websocket), and every byte read is parsed by its endpoint.
"""

import base64
import os
from urllib.parse import urlsplit

from reports.raw_wire import RawConnection
from wire.websocket import Close, Event, frame


class RawWebSocket:
    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None,
                 rcvbuf: int | None = None, early: bytes = b"") -> None:  # fmt: skip
        """`early`: bytes sent in the same write as the upgrade request, before any answer."""
        parts = urlsplit(base_url)
        assert parts.hostname is not None and parts.port is not None
        self.conn = RawConnection(parts.hostname, parts.port, timeout=10, rcvbuf=rcvbuf)
        self.sock = self.conn.sock
        upgrade = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
        }
        self.conn.request("GET", path, {**upgrade, **(headers or {})}, after=early)
        answer = self.conn.read_answer()
        self.status, self.headers, self.body = answer.status, answer.headers, answer.body
        if self.status == 101:
            self.endpoint = self.conn.open_websocket()

    def send(self, data: bytes) -> None:
        """Bytes as they are: a frame built with the codec's primitives, true or lying."""
        self.conn.send(data)

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        """A masked frame, whole or a fragment (`fin=False`), of any opcode."""
        self.send(frame(opcode, payload, fin, os.urandom(4)))

    def send_text(self, text: str) -> None:
        self.send(self.endpoint.send_text(text.encode()))

    def next_event(self) -> Event | None:
        """The next event from the server; None once it has closed the connection."""
        try:
            return self.conn.next_event()
        except OSError:  # ConnectionError included: hung up, reset, or silent for 10 s
            return None

    def recv_close_code(self) -> int | None:
        """Skip events until the server's close; its code (None if it just hung up)."""
        for _ in range(100_000):
            event = self.next_event()
            if event is None:
                return None
            if isinstance(event, Close):
                return event.code
        raise AssertionError("no close frame in 100,000 events")

    def close(self) -> None:
        self.conn.close()
