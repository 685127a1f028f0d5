"""The servers a sweep can measure, and the transports each speaks.

A run measures one server over one transport with the same Locust scenario: chatlab's own
server over any of the four, or another server over those it speaks. Comparisons name their
side: "against WebSocket" means chatlab's WebSocket run, "against the bare loop" the bare
broadcast server's run, each under the same load.
"""

from dataclasses import dataclass

from chat_core import Transport


@dataclass(frozen=True)
class Server:
    name: str  # as `RunRow.server` records it
    label: str  # in words, for the console and the report
    module: tuple[str, ...]  # `python -m` arguments that start it; it takes --host and --port
    transports: tuple[Transport, ...]


CHATLAB = Server("chatlab", "chatlab", ("chatlab", "serve"), tuple(Transport))
# A bare gevent WebSocket broadcast loop: what chatlab's guarantees cost, measured against it.
BARE_BROADCAST = Server(
    "bare_broadcast",
    "bare gevent broadcast (baseline)",
    ("loadtests.bare_broadcast",),
    (Transport.WEBSOCKET,),
)
SERVERS = {server.name: server for server in (CHATLAB, BARE_BROADCAST)}


def run_label(server: str, transport: str) -> str:
    """What a run measured, in words: the transport's label for chatlab's own runs; the
    server's label for another (with the transport's, where it speaks more than one)."""
    spoken = Transport(transport).label
    if server == CHATLAB.name:
        return spoken
    other = SERVERS.get(server)
    if other is None:
        return f"{server}, {spoken}"
    return other.label if len(other.transports) == 1 else f"{other.label}, {spoken}"
