"""Just enough HTTP/1.1 and RFC 6455 over a plain socket to keep every byte that crosses it.

Client libraries hide the bytes a student should see; this one sends exactly the bytes it
is given and returns exactly the bytes it read, split where the protocol splits them.
"""

import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    raw: bytes  # every byte read for this answer
    head: bytes  # status line and headers, blank line included
    body: bytes  # the body with any chunk framing removed
    status: int
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Frame:
    raw: bytes  # the frame as it crossed the wire (masked, if the client sent it)
    header_len: int  # FIN/opcode, length, extended length and masking key
    opcode: int
    payload: bytes  # unmasked


class RawConnection:
    """One TCP connection; reads are buffered so nothing past an answer is lost."""

    def __init__(self, host: str, port: int, timeout: float = 15.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._fill()
        end = self.buffer.index(marker) + len(marker)
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    # -- HTTP -------------------------------------------------------------------------------

    def read_head(self) -> tuple[bytes, int, dict[str, str]]:
        head = self.read_until(HEAD_END)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return head, status, headers

    def read_chunk(self) -> tuple[bytes, bytes]:
        """One chunk of a chunked body: (its raw bytes with framing, its data)."""
        size_line = self.read_until(CRLF)
        size = int(size_line.split(b";")[0], 16)
        data = self.read_exactly(size)
        return size_line + data + self.read_exactly(2), data

    def read_answer(self) -> HttpAnswer:
        """A whole answer with Content-Length, or a chunked one up to its last chunk."""
        head, status, headers = self.read_head()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            raw, body = head, b""
            while True:
                chunk_raw, data = self.read_chunk()
                raw += chunk_raw
                body += data
                if not data:
                    return HttpAnswer(raw, head, body, status, headers)
        body = self.read_exactly(int(headers.get("content-length", "0")))
        return HttpAnswer(head + body, head, body, status, headers)

    # -- WebSocket --------------------------------------------------------------------------

    def read_frame(self) -> Frame:
        first = self.read_exactly(2)
        length = first[1] & 0x7F
        extended = b""
        if length == 126:
            extended = self.read_exactly(2)
            (length,) = struct.unpack("!H", extended)
        elif length == 127:
            extended = self.read_exactly(8)
            (length,) = struct.unpack("!Q", extended)
        mask = self.read_exactly(4) if first[1] & 0x80 else b""
        data = self.read_exactly(length)
        payload = _unmask(data, mask) if mask else data
        header_len = 2 + len(extended) + len(mask)
        return Frame(first + extended + mask + data, header_len, first[0] & 0x0F, payload)


def http_request(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _unmask(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as RFC 6455 requires of every client frame."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, 0x80 | length))
    elif length < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + struct.pack("!H", length)
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + struct.pack("!Q", length)
    return header + mask + _unmask(payload, mask)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Check `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.01)
