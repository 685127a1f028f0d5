"""A WebSocket client with nothing hidden, for feeding a server exactly the bytes a test wants:
handshakes that should be refused, oversized or malformed frames, readers that never read."""

import base64
import os
import socket
import struct
from urllib.parse import urlsplit


class RawWebSocket:
    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None,
                 rcvbuf: int | None = None) -> None:  # fmt: skip
        parts = urlsplit(base_url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:  # before connecting, so the window is small from the start
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect((parts.hostname, parts.port))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {parts.hostname}:{parts.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        self.body = b""
        if self.status != 101:
            self.body = self._read_exactly(int(self.headers.get("content-length", "0")))

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the handshake ended")
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read_exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed inside a frame")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True,
                   declared_length: int | None = None) -> None:  # fmt: skip
        """A masked frame; `declared_length` lies about the payload's length in the header."""
        length = len(payload) if declared_length is None else declared_length
        first = (0x80 if fin else 0) | opcode
        if length < 126:
            header = struct.pack("!BB", first, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", first, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, length)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text: str) -> None:
        self.send_frame(0x1, text.encode())

    def recv_frame(self) -> tuple[int, bytes] | None:
        """The next (opcode, payload) from the server; None once it has closed the connection."""
        try:
            first, second = self._read_exactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exactly(8))
            return first & 0x0F, self._read_exactly(length)
        except (ConnectionError, OSError):
            return None

    def recv_close_code(self) -> int | None:
        """Skip frames until the server's close frame; its code (None if it just hung up)."""
        for _ in range(100_000):
            frame = self.recv_frame()
            if frame is None:
                return None
            opcode, payload = frame
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        raise AssertionError("no close frame in 100,000 frames")

    def close(self) -> None:
        self.sock.close()
