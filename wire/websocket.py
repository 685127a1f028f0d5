"""RFC 6455 framing without I/O: feed an endpoint the bytes read, get events; ask it for the
bytes to write.

Every WebSocket byte chatlab reads or writes goes through this module: the server
(transports/websocket.py), the load generator's client (loadtests/clients/ws_client.py),
the notebook's wire capture (reports/raw_wire.py) and the tests' raw client. The handshake
is HTTP and stays with whoever does the I/O; an endpoint starts after the 101.

What the peer sends is checked here, and a broken rule ends reading with a `Violation`
carrying the code to close with:
- 1002: reserved bits or opcodes, a client frame without a mask or a server frame with one,
  a control frame that is fragmented or over 125 bytes, a continuation of nothing or a new
  message inside a fragmented one, a close frame with a 1-byte payload or with a code no
  peer may send (RFC 6455 §7.4: 0–999, 1004–1006, 1015, 1016–2999, 5000 and up);
- 1007: a text message, or a close reason, that is not UTF-8 (fragments are checked as they
  come, so a bad one fails at once);
- 1008: a message in more than `max_fragments` frames (when bounded), refused from the header
  of the frame past the bound: an endless stream of empty fragments is closed, not read;
- 1009: a message over `max_message` bytes, all fragments together, refused from the header
  of the frame that would cross the limit, before any of its payload is kept.
Header checks happen before the payload is waited for, so a lying header costs nothing.

Why chatlab's own code and not a library: wsproto has no size limit at all and hands out
partial frames; websockets' sans-I/O `Protocol` has the limit and the close codes, but leaves
message assembly and UTF-8 checks to its caller, and parses through a chain of generators.
Timed by scripts/time_ws_codec.py on the lab machine (2 shared cores, Python 3.11; best of
five runs of best-of-7; websockets 17.4 with its C masking, wsproto 1.3.2), in µs per frame:

                                                      this module  websockets  wsproto
    server: read one masked 109-byte JSON text frame      1.7         3.3       11.8
    server: build one 182-byte message frame              0.39        1.0        2.2
    client: parse a read of 50 such message frames        0.76        2.9        8.5

Each library on its cheapest path: websockets assembling nothing (the UTF-8 decode is added
to it), wsproto assembling nothing. In the room of 100 the load generator parses ~10,000
frames a second: 0.8% of a core here, 2.9% with websockets.
"""

import codecs
import os
import struct
from dataclasses import dataclass
from enum import Enum, IntEnum


class Opcode(IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005  # never sent: stands for a close frame that carried no code
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013


def sendable(code: int) -> bool:
    """Whether a close frame may carry `code`: the registered codes an endpoint may send,
    and the ranges for libraries and applications (RFC 6455 §7.4)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class Role(Enum):
    SERVER = "server"  # reads masked frames, writes unmasked ones
    CLIENT = "client"  # reads unmasked frames, writes masked ones


@dataclass(frozen=True, slots=True)
class _Carrying:
    data: bytes


@dataclass(frozen=True, slots=True)
class _Ending:
    code: int
    reason: str


class TextMessage(_Carrying):
    """A whole text message; its data is valid UTF-8."""

    __slots__ = ()


class BinaryMessage(_Carrying):
    __slots__ = ()


class Ping(_Carrying):
    __slots__ = ()


class Pong(_Carrying):
    __slots__ = ()


class Close(_Ending):
    """The peer closes (NO_STATUS if its frame carried no code); nothing more is read."""

    __slots__ = ()

    @property
    def answer_code(self) -> int:
        """The code to answer with: the peer's own (RFC 6455 §5.5.1), 1000 if it gave none."""
        return CloseCode.NORMAL if self.code == CloseCode.NO_STATUS else self.code


class Violation(_Ending):
    """The peer broke the protocol: close with `code`; nothing more is read."""

    __slots__ = ()


Event = TextMessage | BinaryMessage | Ping | Pong | Close | Violation

MAX_CONTROL_PAYLOAD = 125
_MAX_REASON = MAX_CONTROL_PAYLOAD - 2  # the code takes two bytes
_OPCODES = frozenset(Opcode)
_FIN_TEXT = 0x80 | Opcode.TEXT  # a whole text message in one frame: the common case
_FIN_BINARY = 0x80 | Opcode.BINARY
_utf8_decoder = codecs.getincrementaldecoder("utf-8")
_HEAD_16 = struct.Struct("!BBH")  # first two header bytes, then a 16-bit length
_HEAD_64 = struct.Struct("!BBQ")
_LENGTH_16 = struct.Struct("!H")
_LENGTH_64 = struct.Struct("!Q")


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte masking key (it masks and unmasks alike), as one big-integer
    operation: a loop over the bytes is ~20 times slower."""
    length = len(data)
    if not length:
        return b""
    key = (mask * (length // 4 + 1))[:length]
    masked = int.from_bytes(data, "little") ^ int.from_bytes(key, "little")
    return masked.to_bytes(length, "little")


def frame_header(opcode: int, length: int, fin: bool = True, mask: bytes = b"",
                 rsv: int = 0) -> bytes:  # fmt: skip
    """FIN, reserved bits and opcode, the payload length in the fewest bytes, the masking
    key. The length is whatever the caller declares, so a test can build a lying header."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if mask else 0
    if length < 126:
        header = bytes((first, mask_bit | length))
    elif length < 1 << 16:
        header = _HEAD_16.pack(first, mask_bit | 126, length)
    else:
        header = _HEAD_64.pack(first, mask_bit | 127, length)
    return header + mask if mask else header


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes = b"") -> bytes:
    """One frame; masked with the 4-byte `mask` when given, as every client frame must be."""
    if mask:
        return frame_header(opcode, len(payload), fin, mask) + apply_mask(payload, mask)
    return frame_header(opcode, len(payload), fin) + payload


def close_payload(code: int, reason: str = "") -> bytes:
    """The code, then as much of the reason as fits, cut between characters."""
    fitted = reason.encode()[:_MAX_REASON].decode(errors="ignore").encode()
    return code.to_bytes(2, "big") + fitted


def read_close(payload: bytes) -> Close | Violation:
    """A close frame's payload as RFC 6455 §5.5.1 and §7.4 read it."""
    if not payload:
        return Close(CloseCode.NO_STATUS, "")
    if len(payload) == 1:
        return Violation(CloseCode.PROTOCOL_ERROR, "a close code takes two bytes, not one")
    code = int.from_bytes(payload[:2], "big")
    if not sendable(code):
        return Violation(CloseCode.PROTOCOL_ERROR, f"{code} is not a close code to send")
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError:
        return Violation(CloseCode.INVALID_DATA, "the close reason is not UTF-8")
    return Close(code, reason)


class Endpoint:
    """One end of an open WebSocket connection. `receive(data)` returns the events the
    bytes complete; the `send_*` methods, `ping`, `pong` and `close` return bytes to write."""

    def __init__(self, role: Role, max_message: int, max_fragments: int | None = None) -> None:
        """`max_fragments`: frames one message may come in (None: any number)."""
        self.role = role
        self.max_message = max_message
        self.max_fragments = max_fragments
        self.reading = True  # False after a Close or a Violation: later bytes are dropped
        self.close_sent = False
        self._masked = role is Role.SERVER  # incoming frames carry a masking key
        self._pending = bytearray()  # the start of a frame that is not whole yet
        self._need = 0  # how long _pending must grow before parsing again is worth it
        self._message: int | None = None  # opcode of the fragmented message in progress
        self._parts: list[bytes] = []
        self._size = 0  # of the fragments so far
        self._fragments = 0  # frames of the fragmented message so far
        self._decoder: codecs.IncrementalDecoder | None = None  # for a fragmented text

    # -- reading --------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """The events that `data`, the next bytes from the peer, complete, in order."""
        if not self.reading:
            return []
        pending = self._pending
        if pending:
            pending += data
            if len(pending) < self._need:
                return []
            data = bytes(pending)
            pending.clear()
        events: list[Event] = []
        masked, limit = self._masked, self.max_message
        mask_bit = 0x80 if masked else 0
        pos, end, need = 0, len(data), 2
        while end - pos >= 2:
            first, second = data[pos], data[pos + 1]
            length, start = second & 0x7F, pos + 2
            if length > 125:
                extended = _LENGTH_16 if length == 126 else _LENGTH_64
                start += extended.size
                if start > end:
                    need = start - pos
                    break
                (length,) = extended.unpack_from(data, pos + 2)
            if (
                (first != _FIN_TEXT and first != _FIN_BINARY)
                or second & 0x80 != mask_bit
                or self._message is not None
                or length > limit
            ):
                violation = self._check_header(first, second, length)
                if violation is not None:
                    return self._fail(events, violation)
            if masked:
                start += 4
            stop = start + length
            if stop > end:
                need = stop - pos
                break
            payload = data[start:stop]
            if masked:
                payload = apply_mask(payload, data[start - 4 : start])
            pos = stop
            if first == _FIN_TEXT:
                try:
                    payload.decode()
                except UnicodeDecodeError:
                    return self._fail(events, _NOT_UTF8)
                events.append(TextMessage(payload))
            elif first == _FIN_BINARY:
                events.append(BinaryMessage(payload))
            elif not self._take(first, payload, events):
                return events
        if pos < end:
            pending += memoryview(data)[pos:]
            self._need = need
        return events

    def _check_header(self, first: int, second: int, length: int) -> Violation | None:
        """What is wrong with a frame's header, or None: every rule that needs no payload."""
        opcode = first & 0x0F
        if first & 0x70:
            return Violation(CloseCode.PROTOCOL_ERROR, "reserved bits are set")
        if opcode not in _OPCODES:
            return Violation(CloseCode.PROTOCOL_ERROR, f"opcode {opcode:#x} is reserved")
        if bool(second & 0x80) != self._masked:
            side = "a client must mask" if self._masked else "a server must not mask"
            return Violation(CloseCode.PROTOCOL_ERROR, f"{side} its frames")
        if opcode >= Opcode.CLOSE:
            if not first & 0x80:
                return Violation(CloseCode.PROTOCOL_ERROR, "a control frame is fragmented")
            if length > MAX_CONTROL_PAYLOAD:
                return Violation(CloseCode.PROTOCOL_ERROR, "a control frame is over 125 bytes")
            return None
        if opcode == Opcode.CONTINUATION and self._message is None:
            return Violation(CloseCode.PROTOCOL_ERROR, "a continuation of no message")
        if opcode != Opcode.CONTINUATION and self._message is not None:
            return Violation(CloseCode.PROTOCOL_ERROR, "a new message inside a fragmented one")
        if self.max_fragments is not None and self._fragments >= self.max_fragments:
            return Violation(
                CloseCode.POLICY_VIOLATION,
                f"a message may come in at most {self.max_fragments} fragments",
            )
        if self._size + length > self.max_message:
            return Violation(
                CloseCode.MESSAGE_TOO_BIG, f"messages are limited to {self.max_message} bytes"
            )
        return None

    def _take(self, first: int, payload: bytes, events: list[Event]) -> bool:
        """A whole frame that is not a whole message by itself: a control frame or a
        fragment. False once reading has ended."""
        opcode, fin = first & 0x0F, first & 0x80
        if opcode == Opcode.PING:
            events.append(Ping(payload))
            return True
        if opcode == Opcode.PONG:
            events.append(Pong(payload))
            return True
        if opcode == Opcode.CLOSE:
            self._fail(events, read_close(payload))
            return False
        if opcode != Opcode.CONTINUATION:
            self._message = opcode
            self._decoder = _utf8_decoder() if opcode == Opcode.TEXT else None
        if self._decoder is not None:
            try:
                self._decoder.decode(payload, bool(fin))
            except UnicodeDecodeError:
                self._fail(events, _NOT_UTF8)
                return False
        self._parts.append(payload)
        self._size += len(payload)
        self._fragments += 1
        if fin:
            data = b"".join(self._parts)
            text = self._message == Opcode.TEXT
            events.append(TextMessage(data) if text else BinaryMessage(data))
            self._message, self._parts, self._size, self._decoder = None, [], 0, None
            self._fragments = 0
        return True

    def _fail(self, events: list[Event], last: Close | Violation) -> list[Event]:
        events.append(last)
        self.reading = False
        self._pending.clear()
        self._parts = []
        return events

    # -- writing --------------------------------------------------------------------------

    def send_text(self, data: bytes) -> bytes:
        """A text frame of `data` (UTF-8, the caller's promise)."""
        return self._frame(Opcode.TEXT, data)

    def send_binary(self, data: bytes) -> bytes:
        return self._frame(Opcode.BINARY, data)

    def ping(self, data: bytes = b"") -> bytes:
        return self._frame(Opcode.PING, data)

    def pong(self, data: bytes) -> bytes:
        return self._frame(Opcode.PONG, data)

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> bytes:
        self.close_sent = True
        return self._frame(Opcode.CLOSE, close_payload(code, reason))

    def _frame(self, opcode: int, payload: bytes) -> bytes:
        mask = os.urandom(4) if self.role is Role.CLIENT else b""
        return frame(opcode, payload, True, mask)


_NOT_UTF8 = Violation(CloseCode.INVALID_DATA, "a text message is not UTF-8")
