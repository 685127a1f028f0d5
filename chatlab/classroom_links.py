"""The emulated networks of `chatlab serve`: one `link.relay.Link` per round-trip time, each on
its own port, relaying to the server, so that /compare can be reopened over 50, 200 or 600 ms.

They run in the server's process, on its gevent hub, rather than as `chatlab link` children:
- Nothing to start, stop or leak. Child processes would be three more interpreters with
  every `chatlab serve`, the sweep's servers included (a `link.process.LinkProcess` took
  0.24-0.27 s of CPU to start and held 31 MiB resident, three runs here), each to stop by
  pid; a server killed with SIGKILL would leave them running and holding their ports. In
  the server's process they end with it, whatever ends it.
- Idle they cost nothing: a listening socket and one watcher each. The sweep never uses
  them; its servers start them all the same (`--links none` turns them off).
- The cost: the relay's CPU is counted in the server's process figures (the dashboard's CPU,
  `/api/metrics`' `process`) while pages go through a link, and it shares the server's core.
  For a classroom that is a few pages; the relay's own docstring has its cost per message
  (11-18 µs per WebSocket message, 33-75 µs per HTTP request, measured in its own process).
"""

from dataclasses import dataclass
from typing import Any

CLASSROOM_RTTS_MS = (50.0, 200.0, 600.0)


class LinkRefused(Exception):
    """A link could not listen (its port taken, most likely): one sentence for the console."""


@dataclass(frozen=True, slots=True)
class PlannedLink:
    rtt_ms: float
    port: int  # 0: any free port


def plan_links(server_port: int, rtts_ms: tuple[float, ...]) -> list[PlannedLink]:
    """Fixed ports P+1, P+2, ... beside a fixed server port P (a teacher can bookmark them);
    free ports beside `--port 0`."""
    return [
        PlannedLink(rtt, server_port + number if server_port else 0)
        for number, rtt in enumerate(rtts_ms, start=1)
    ]


def start_links(host: str, target: tuple[str, int], planned: list[PlannedLink]) -> dict[int, Any]:
    """Start every planned link on `host`, relaying to `target`, under the running gevent
    hub; their bound ports → `link.relay.Link`. LinkRefused, with nothing left listening, if
    one cannot listen."""
    from link.relay import Link, LinkError  # gevent: only once the server is starting

    started: dict[int, Any] = {}
    for plan in planned:
        link = Link(listen=(host, plan.port), target=target, rtt_ms=plan.rtt_ms)
        try:
            port = link.start()[1]
        except LinkError as error:
            stop_links(started)
            raise LinkRefused(f"the {plan.rtt_ms:g} ms link: {error}") from None
        started[port] = link
    return started


def stop_links(links: dict[int, Any]) -> None:
    for link in links.values():
        link.stop()


def connect_host(host: str) -> str:
    """Where a link reaches a server listening on `host` (a wildcard is reached on loopback)."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def describe(host: str, links: dict[int, Any]) -> str:
    """For the server's first line: each link's round trip and URL."""
    shown = f"[{host}]" if ":" in host else host
    return ", ".join(
        f"{link.rtt_ms:g} ms round trip on http://{shown}:{port}/"
        for port, link in sorted(links.items(), key=lambda item: item[1].rtt_ms)
    )
