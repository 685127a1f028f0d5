"""Time wire.websocket against the sans-I/O WebSocket libraries: µs per frame, best of 7.

    .venv/bin/python scripts/time_ws_codec.py

wsproto comes with the project's dependencies (through Locust); websockets is timed when it
is installed (`pip install websockets` into a scratch virtualenv, not into the project).
Each library is timed on its cheapest path: websockets' sans-I/O `Protocol` assembles no
fragments and checks no UTF-8 (the decode that the codec does is added to it), wsproto
assembles no fragments. The figures decide whether the codec stays ours (its docstring).
"""

import json
import os
import timeit
from collections.abc import Callable

from wire.websocket import Endpoint, Opcode, Role, frame

REPEAT = 7
TEXT = "hello from user 42, number 17"
SEND = json.dumps(
    {"type": "send", "room": "room-12", "text": TEXT, "cid": "u42-17", "ts": 1730000000.123456},
    separators=(",", ":"),
).encode()
MESSAGE = json.dumps(
    {"type": "message", "message": {"id": 123456, "room": "room-12", "to": None,
     "from": "user42", "text": TEXT, "at": 1730000000.123, "cid": "u42-17",
     "ts": 1730000000.123456}},
    separators=(",", ":"),
).encode()  # fmt: skip
CLIENT_FRAME = frame(Opcode.TEXT, SEND, mask=os.urandom(4))  # what the server reads
READ = frame(Opcode.TEXT, MESSAGE) * 50  # what the load generator reads in one go
FRAMES_PER_READ = 50


def per_call(action: Callable[[], object], number: int = 20_000) -> float:
    return min(timeit.repeat(action, number=number, repeat=REPEAT)) / number * 1e6


def ours() -> dict[str, float]:
    server, client = Endpoint(Role.SERVER, 65536), Endpoint(Role.CLIENT, 1 << 24)
    return {
        "read": per_call(lambda: server.receive(CLIENT_FRAME)),
        "build": per_call(lambda: frame(Opcode.TEXT, MESSAGE)),
        "parse": per_call(lambda: client.receive(READ), 400) / FRAMES_PER_READ,
    }


def websockets_protocol() -> dict[str, float] | None:
    try:
        from websockets.frames import Frame
        from websockets.frames import Opcode as WsOpcode
        from websockets.protocol import Protocol, Side, State
    except ImportError:
        return None
    server = Protocol(Side.SERVER, state=State.OPEN, max_size=65536)
    client = Protocol(Side.CLIENT, state=State.OPEN, max_size=1 << 24)

    def feed(protocol: Protocol, data: bytes) -> None:
        protocol.receive_data(data)
        for received in protocol.events_received():
            received.data.decode()

    return {
        "read": per_call(lambda: feed(server, CLIENT_FRAME)),
        "build": per_call(
            lambda: Frame(WsOpcode.TEXT, MESSAGE).serialize(mask=False, extensions=[])
        ),
        "parse": per_call(lambda: feed(client, READ), 400) / FRAMES_PER_READ,
    }


def wsproto_connection() -> dict[str, float] | None:
    try:
        from wsproto.connection import Connection, ConnectionType
        from wsproto.frame_protocol import FrameProtocol
    except ImportError:
        return None
    server, client = Connection(ConnectionType.SERVER), Connection(ConnectionType.CLIENT)
    writer, text = FrameProtocol(client=False, extensions=[]), MESSAGE.decode()

    def feed(connection: Connection, data: bytes) -> None:
        connection.receive_data(data)
        for _ in connection.events():
            pass

    return {
        "read": per_call(lambda: feed(server, CLIENT_FRAME)),
        "build": per_call(lambda: writer.send_data(text, True)),  # text frames take a str
        "parse": per_call(lambda: feed(client, READ), 400) / FRAMES_PER_READ,
    }


def main() -> None:
    columns = {"wire.websocket": ours(), "websockets": websockets_protocol(),
               "wsproto": wsproto_connection()}  # fmt: skip
    rows = {
        "read": f"server: read one masked {len(SEND)}-byte JSON text frame",
        "build": f"server: build one {len(MESSAGE)}-byte message frame",
        "parse": f"client: parse a read of {FRAMES_PER_READ} such message frames",
    }
    print(f"{'µs per frame':<52}" + "".join(f"{name:>16}" for name in columns))
    for key, label in rows.items():
        cells = (f"{c[key]:16.2f}" if c else f"{'not installed':>16}" for c in columns.values())
        print(f"{label:<52}" + "".join(cells))


if __name__ == "__main__":
    main()
