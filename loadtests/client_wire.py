"""Wire bytes counted at the client, for a server that counts none itself (the Flask-SocketIO
peer): every socket of the Socket.IO clients (TCP_INFO). Over the measurement window, read
as the generator's `client_wire` meter (the coordinator sums them into the scenario's
`client_wire`); over the whole run of this process — logins and handshakes included —
printed at the end and written to --lab-output as `client-wire-<pid>.json`."""

import json
import os
from pathlib import Path
from typing import Any

from locust import events

from .clients.socketio_client import CLIENT_WIRE
from .generator import Generator

METER = "client_wire"
Generator.meters[METER] = CLIENT_WIRE.reading


@events.test_start.add_listener
def _reset(**_: Any) -> None:
    CLIENT_WIRE.reset()


@events.test_stop.add_listener
def _report(environment: Any, **_: Any) -> None:
    if CLIENT_WIRE.sockets == CLIENT_WIRE.uncounted == 0:
        return  # no Socket.IO user ran here (the master of a distributed run)
    tally = CLIENT_WIRE.as_dict()
    print(f"chatlab: wire bytes counted at the client (whole run, this process): "
          f"{tally['bytes_in']:,} in, {tally['bytes_out']:,} out over {tally['sockets']} "
          f"sockets ({tally['uncounted']} not counted)", flush=True)  # fmt: skip
    folder = getattr(environment.parsed_options, "lab_output", "")
    if folder:
        path = Path(folder) / f"client-wire-{os.getpid()}.json"
        path.write_text(json.dumps({"counted_at": "client", **tally}) + "\n")
