"""Socket.IO v5 over Engine.IO v4: the packets a client reads and writes. No I/O.

An Engine.IO packet is one digit of type and its data; a long-polling body carries several,
split by the record separator 0x1E, and over WebSocket each is one text message. A Socket.IO
packet rides in an Engine.IO message (`4`): one digit of type, then — in the default
namespace, the only one used here — the ack id in digits, if any, then JSON. So:

    40{"token":"…"}              connect, with the auth payload
    40{"sid":"…"}                connected            44{"message":…,"data":…}   refused
    427["send",{…}]              event with ack id 7  437[{"id":42}]             its ack
    42["message",{…}]            event, no ack wanted
    2 / 3                        Engine.IO ping (from the server) / pong (the answer)

Only what a chat client meets is read; anything else is `Unknown` (and skipped).
"""

import json
from dataclasses import dataclass
from typing import Any

SEPARATOR = b"\x1e"
PONG = b"3"
_DIGITS = frozenset(b"0123456789")
_dumps = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Opened:
    """Engine.IO's open packet: the session id and the server's ping settings (s)."""

    sid: str
    ping_interval: float
    ping_timeout: float


@dataclass(frozen=True, slots=True)
class Connected:
    pass


@dataclass(frozen=True, slots=True)
class Refused:
    data: Any  # the connect error's payload: {"message": …, "data": …}


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    data: Any  # the first argument (None if there is none)
    size: int  # bytes of that argument's JSON as it came


@dataclass(frozen=True, slots=True)
class Ack:
    id: int
    args: list[Any]


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Closed:
    """The server closed the Engine.IO session, or disconnected the namespace."""

    why: str


@dataclass(frozen=True, slots=True)
class Unknown:
    packet: bytes


Packet = Opened | Connected | Refused | Event | Ack | Ping | Closed | Unknown
_PING, _NOOP, _CLOSED = Ping(), Unknown(b"6"), Closed("the server closed the session")


def connect(auth: dict[str, Any]) -> bytes:
    return b"40" + _dumps(auth).encode()


def event(ack_id: int, name: str, data: Any) -> bytes:
    return b"42%d" % ack_id + _dumps([name, data]).encode()


def split(body: bytes) -> list[bytes]:
    """The packets of a long-polling answer."""
    return body.split(SEPARATOR) if body else []


def read(packet: bytes) -> Packet:
    """One Engine.IO packet (and the Socket.IO packet inside a message); ValueError if its
    JSON is broken."""
    kind = packet[:1]
    if kind == b"4":
        return _read_socketio(packet)
    if kind == b"2":
        return _PING
    if kind == b"6":
        return _NOOP
    if kind == b"1":
        return _CLOSED
    if kind == b"0":
        opened = json.loads(packet[1:])
        return Opened(str(opened["sid"]), opened["pingInterval"] / 1000,
                      opened["pingTimeout"] / 1000)  # fmt: skip
    return Unknown(packet)


def _read_socketio(packet: bytes) -> Packet:
    kind = packet[1:2]
    if kind == b"2":
        end = 2
        while end < len(packet) and packet[end] in _DIGITS:
            end += 1  # an event that asks for an ack: the client answers none
        name, *args = json.loads(packet[end:])
        # the argument's own bytes: all but `["name",` before it and `]` after it
        size = len(packet) - end - len(name.encode()) - 5 if args else 0
        return Event(name, args[0] if args else None, size)
    if kind == b"3":
        end = 2
        while end < len(packet) and packet[end] in _DIGITS:
            end += 1
        if end == 2:
            return Unknown(packet)
        return Ack(int(packet[2:end]), json.loads(packet[end:]))
    if kind == b"0":
        return Connected()
    if kind == b"4":
        return Refused(json.loads(packet[2:]) if len(packet) > 2 else None)
    if kind == b"1":
        return Closed("the server disconnected the namespace")
    return Unknown(packet)
