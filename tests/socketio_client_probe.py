"""Run as a child process: `python socketio_client_probe.py BASE_URL MODE [PROFILE]` (gevent's
monkey-patching, which the load generator's clients need, must not reach the test process).

Three load-test Socket.IO users of one mode (`socketio_polling` or `socketio_websocket`)
against the Flask-SocketIO peer: alice, bob and carol join one room; alice sends to the
room, then privately to bob, then to the room again; carol sends to a room she never joined.
Prints what each received, what the sends answered and every request reported, as one JSON
line.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 - after the patching, as in Locust
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent.event  # noqa: E402

from loadtests.clients import (  # noqa: E402
    ClientSettings,
    SendFailed,
    SocketIOPollingClient,
    SocketIOWebSocketClient,
)
from loadtests.clients.socketio_client import CLIENT_WIRE  # noqa: E402
from loadtests.options import ScenarioOptions  # noqa: E402

MODES = {client.transport: client for client in (SocketIOPollingClient, SocketIOWebSocketClient)}


class Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        self.arrived = gevent.event.Event()

    def message(self, message: dict[str, Any], arrival: float, size: int) -> None:
        self.messages.append({**message, "latency_ms": (arrival - message["ts"]) * 1000})
        self.sizes.append(size)
        self.arrived.set()

    def wait_for(self, msg_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ids = lambda: {m["id"] for m in self.messages}  # noqa: E731
        while msg_id not in ids() and (left := deadline - time.monotonic()) > 0:
            self.arrived.clear()
            self.arrived.wait(left)

    def gap(self) -> None:
        raise AssertionError("the peer has no retention, so no gaps")

    def reconnected(self, resumed: int) -> None:
        pass


def main(base_url: str, mode: str, profile: str) -> None:
    requests: list[dict[str, Any]] = []

    def fire(kind: str, name: str, ms: float | None, size: int, error: Exception | None) -> None:
        requests.append(
            {"kind": kind, "name": name, "error": None if error is None else str(error)}
        )

    defaults = ScenarioOptions()
    settings = ClientSettings(base_url, profile, defaults.poll_interval,
                              defaults.long_poll_timeout, drop_every=0.0,
                              request_timeout=10.0)  # fmt: skip
    tag = f"{os.getpid()}x{time.monotonic_ns() % 100000}"
    room = f"room{tag}"
    users = {}
    for who in ("alice", "bob", "carol"):
        inbox = Inbox()
        client = MODES[mode](f"{who}{tag}", settings, fire, inbox)
        client.login()
        client.start_receiving()
        client.join(room)
        users[who] = (client, inbox)
    alice, bob, carol = (users[who][0] for who in ("alice", "bob", "carol"))
    first = alice.send("to the room", "a-1", time.time(), room=room)
    private = alice.send("to bob alone", "a-2", time.time(), to=bob.name)
    last = alice.send("to the room again", "a-3", time.time(), room=room)
    refused = None
    try:
        carol.send("where?", "c-1", time.time(), room=f"elsewhere{tag}")
    except SendFailed as error:
        refused = str(error)
    for _, inbox in users.values():
        inbox.wait_for(last, 10.0)
    outcome = {
        "names": {who: client.name for who, (client, _) in users.items()},
        "ids": [first, private, last],
        "received": {who: inbox.messages for who, (_, inbox) in users.items()},
        "sizes": {who: inbox.sizes for who, (_, inbox) in users.items()},
        "refused": refused,
        "requests": requests,
    }
    for client, _ in users.values():
        client.close()
    outcome["wire"] = CLIENT_WIRE.as_dict()
    print(json.dumps(outcome))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "minimal")
