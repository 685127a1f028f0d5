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
    # where its clients and its metrics call a transport otherwise: (transport, their name)
    spelled: tuple[tuple[Transport, str], ...] = ()
    # what a sweep adds to `module`'s arguments: a run measures the server alone
    swept_with: tuple[str, ...] = ()
    counts_bytes: bool = True  # its /api/metrics counts the bytes of its sockets (TCP_INFO)

    @property
    def swept_module(self) -> tuple[str, ...]:
        """`module` as a sweep starts it."""
        return (*self.module, *self.swept_with)

    def client_name(self, transport: str) -> str:
        """The name under which its Locust client counts (and its `/api/metrics` reports) a
        transport."""
        return dict(self.spelled).get(Transport(transport), str(transport))


# Swept without the classroom's emulated links (ports above its own, relaying in its process).
CHATLAB = Server(
    "chatlab", "chatlab", ("chatlab", "serve"), tuple(Transport), swept_with=("--links", "none")
)
# A bare gevent WebSocket broadcast loop: what chatlab's guarantees cost, measured against it.
BARE_BROADCAST = Server(
    "bare_broadcast",
    "bare gevent broadcast (baseline)",
    ("loadtests.bare_broadcast",),
    (Transport.WEBSOCKET,),
)
# Flask-SocketIO in gevent mode, the peer: each chatlab transport beside the same transport
# in another implementation. Its clients (loadtests/socketio_*.py) name what they speak as
# Socket.IO clients do: Engine.IO's long polling and its WebSocket. It counts no bytes: the
# load generator counts them at its own sockets.
SOCKETIO_POLLING, SOCKETIO_WEBSOCKET = "socketio_polling", "socketio_websocket"
FLASK_SOCKETIO = Server(
    "flask_socketio",
    "Flask-SocketIO",
    ("loadtests.socketio_server",),
    (Transport.LONG_POLL, Transport.WEBSOCKET),
    ((Transport.LONG_POLL, SOCKETIO_POLLING), (Transport.WEBSOCKET, SOCKETIO_WEBSOCKET)),
    counts_bytes=False,
)
# The sweep's servers.
SERVERS = {server.name: server for server in (CHATLAB, BARE_BROADCAST, FLASK_SOCKETIO)}


def client_name(server: str, transport: str) -> str:
    """The name under which a run's clients count `transport` (their ledger, their latency
    files) and its server's `/api/metrics` reports it: the transport's own, but for a peer
    that spells it otherwise."""
    known = SERVERS.get(server)
    return known.client_name(transport) if known is not None else str(transport)


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
