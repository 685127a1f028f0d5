"""RFC 6455 framing, without I/O: parse client frames from a `read(n)` callable, build ours.

gevent-websocket does the handshake; the frames are ours, for three reasons it cannot meet:
the size limit must be enforced from the frame header before the payload is read, close
codes must reach the client, and every server frame must be built once and shared.
"""

import struct
from collections.abc import Callable

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN_LATER = 1013

_SHORT = struct.Struct("!H")
_LONG = struct.Struct("!Q")


class ConnectionLost(Exception):
    """The peer went away in the middle of a frame or between frames."""


class ProtocolViolation(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class MessageTooBig(ProtocolViolation):
    def __init__(self, limit: int) -> None:
        super().__init__(CLOSE_TOO_BIG, f"messages are limited to {limit} bytes")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, unfragmented frame, as a server sends it."""
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, length))
    elif length < 1 << 16:
        header = bytes((0x80 | opcode, 126)) + _SHORT.pack(length)
    else:
        header = bytes((0x80 | opcode, 127)) + _LONG.pack(length)
    return header + payload


def text_frame(payload: bytes) -> bytes:
    return encode_frame(OP_TEXT, payload)


def close_frame(code: int, reason: str = "") -> bytes:
    return encode_frame(OP_CLOSE, _SHORT.pack(code) + reason.encode()[:120])


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, done as one big-integer operation instead of a byte loop."""
    length = len(payload)
    if not length:
        return payload
    key = (mask * (length // 4 + 1))[:length]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return masked.to_bytes(length, "little")


def _read_exactly(read: Callable[[int], bytes], count: int) -> bytes:
    data = read(count)
    if len(data) != count:
        raise ConnectionLost("the connection closed inside a frame")
    return data


class MessageReader:
    """Reads whole messages; control frames between fragments are returned as they come."""

    def __init__(self, read: Callable[[int], bytes], max_size: int) -> None:
        self._read = read
        self._max_size = max_size
        self._opcode: int | None = None  # of the fragmented message being assembled
        self._parts: list[bytes] = []
        self._size = 0

    def next(self) -> tuple[int, bytes]:
        """The next (opcode, payload): a whole text or binary message, or a control frame."""
        while True:
            head = self._read(2)
            if not head:
                raise ConnectionLost("the connection closed")
            if len(head) == 1:
                head += _read_exactly(self._read, 1)
            first, second = head
            fin, opcode, length = first & 0x80, first & 0x0F, second & 0x7F
            if first & 0x70:
                raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "reserved bits are set")
            if not second & 0x80:
                raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "client frames must be masked")
            if length == 126:
                (length,) = _SHORT.unpack(_read_exactly(self._read, 2))
            elif length == 127:
                (length,) = _LONG.unpack(_read_exactly(self._read, 8))
            if opcode >= OP_CLOSE:
                if not fin or length > 125:
                    raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "bad control frame")
            elif self._size + length > self._max_size:
                raise MessageTooBig(self._max_size)  # before a byte of the payload is read
            mask = _read_exactly(self._read, 4)
            payload = unmask(_read_exactly(self._read, length), mask) if length else b""
            if opcode >= OP_CLOSE:
                if opcode not in (OP_CLOSE, OP_PING, OP_PONG):
                    raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "unknown control opcode")
                return opcode, payload
            if opcode == OP_CONTINUATION:
                if self._opcode is None:
                    raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "continuation of nothing")
            elif opcode in (OP_TEXT, OP_BINARY):
                if self._opcode is not None:
                    raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "new message inside a message")
                self._opcode = opcode
            else:
                raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "unknown opcode")
            self._parts.append(payload)
            self._size += length
            if fin:
                message_opcode, parts = self._opcode, self._parts
                self._opcode, self._parts, self._size = None, [], 0
                return message_opcode, b"".join(parts)


_NOT_SENDABLE = frozenset({1004, 1005, 1006, 1015})


def parse_close(payload: bytes) -> int:
    """The code to echo for a peer's close frame: its own, or 1000 if it sent none we may."""
    if len(payload) >= 2:
        code = _SHORT.unpack_from(payload)[0]
        if 1000 <= code < 5000 and code not in _NOT_SENDABLE:
            return code
    return CLOSE_NORMAL
