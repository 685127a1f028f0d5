"""Run as a child process: `python ws_cut_then_send.py BASE_URL` (gevent's monkey-patching,
which the load generator's WebSocket client needs, must not reach the test process).

One load-test WebSocket user cuts its receiving connection and sends at once, before its
receiving greenlet has had a chance to notice the cut: what happens when `--drop-every`'s
greenlet and a sender's greenlet wake in the same turn of gevent's loop, the dropper first.
Prints what came of it as one JSON line.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 - after the patching, as in Locust
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent.event  # noqa: E402

from loadtests.clients import ClientSettings, SendFailed, WebSocketClient  # noqa: E402
from loadtests.options import ScenarioOptions  # noqa: E402


class Inbox:
    def __init__(self) -> None:
        self.ids: list[int] = []
        self.reconnects = self.resumed = 0
        self.arrived = gevent.event.Event()

    def message(self, message: dict[str, Any], arrival: float, size: int) -> None:
        self.ids.append(message["id"])
        self.arrived.set()

    def wait_for(self, msg_id: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while msg_id not in self.ids and (left := deadline - time.monotonic()) > 0:
            self.arrived.clear()
            self.arrived.wait(left)

    def gap(self) -> None:
        pass

    def reconnected(self, resumed: int) -> None:
        self.reconnects += 1
        self.resumed += resumed


def main(base_url: str) -> None:
    failures: list[str] = []

    def fire(kind: str, name: str, ms: float | None, size: int, error: Exception | None) -> None:
        if error is not None:
            failures.append(f"{kind} {name}: {error}")

    inbox = Inbox()
    tag = f"{os.getpid()}x{time.monotonic_ns() % 100000}"
    defaults = ScenarioOptions()
    settings = ClientSettings(
        base_url,
        header_profile=defaults.header_profile,
        poll_interval=defaults.poll_interval,
        long_poll_timeout=defaults.long_poll_timeout,
        drop_every=0.0,  # the test cuts by hand
        request_timeout=10,
    )
    client = WebSocketClient(f"cut{tag}", settings, fire, inbox)
    client.login()
    client.start_receiving()
    client.join(f"cutroom{tag}")
    client._cuts += 1  # as --drop-every's greenlet does: this failure is ours, not reported
    client._cut()  # the receiving greenlet has not run since: the client still looks connected
    outcome: dict[str, Any] = {"failures": failures}
    try:
        outcome["id"] = client.send(
            "after the cut", f"cut{tag}-1", time.time(), room=f"cutroom{tag}"
        )
    except SendFailed as error:
        outcome["send_failed"] = str(error)
    else:
        inbox.wait_for(outcome["id"], timeout=10)
    client.finish_resume()
    outcome.update(received=inbox.ids, reconnects=inbox.reconnects, resumed=inbox.resumed)
    client.close()
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
