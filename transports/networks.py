"""The networks a class can open the pages through: the server's own port, where nothing is
added, and the emulated links `chatlab serve` starts beside it (chatlab/classroom_links.py),
one port for each round-trip time.

A request's `Host` says which one it came through: the browser names the port it connected
to, and a link relays the bytes unchanged. The same `Host` is what the Origin check compares
with (transports/auth.py), so every link is an origin of its own and the pages' requests stay
same-origin through it. Cookies are per host, not per port: a login holds on every network.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, request

_EXTENSION = "chatlab.networks"


@dataclass(frozen=True, slots=True)
class Network:
    rtt_ms: float  # the round trip added; 0 for the server's own port
    port: int

    @property
    def emulated(self) -> bool:
        return self.rtt_ms > 0

    @property
    def ms(self) -> str:
        """The round trip as the pages write it: 200, 12.5."""
        return f"{self.rtt_ms:g}"

    @property
    def one_way_ms(self) -> str:
        return f"{self.rtt_ms / 2:g}"


@dataclass(frozen=True, slots=True)
class Networks:
    direct_port: int | None  # None: served without `chatlab serve` (e.g. a test client)
    links: tuple[Network, ...] = ()

    def choices(self) -> tuple[Network, ...]:
        """What a page offers: the server's own port first, then the links by round trip;
        nothing when there is no link to choose."""
        if self.direct_port is None or not self.links:
            return ()
        return (Network(0, self.direct_port), *sorted(self.links, key=lambda n: n.rtt_ms))

    def by_port(self, port: int | None) -> Network:
        """The network behind `port`; a port that is no link's is the server's own."""
        for network in self.links:
            if network.port == port:
                return network
        return Network(0, port if port is not None else self.direct_port or 0)


def register_networks(app: Flask, direct_port: int, links: dict[int, float]) -> None:
    """Called by `chatlab serve` once the server and its links listen: `links` maps each
    link's port to its round trip in ms."""
    app.extensions[_EXTENSION] = Networks(
        direct_port, tuple(Network(rtt, port) for port, rtt in links.items())
    )


def networks() -> Networks:
    return current_app.extensions.get(_EXTENSION, Networks(None))


def request_port() -> int | None:
    """The port the browser connected to, from `Host` (the scheme's default if it names none)."""
    try:
        parts = urlsplit(f"{request.scheme}://{request.host}")
        return parts.port or {"http": 80, "https": 443}.get(request.scheme)
    except ValueError:
        return None


def request_network() -> Network:
    return networks().by_port(request_port())


def network_url(network: Network, path: str) -> str:
    """`path` (with its query) on the same host name as this request, through `network`."""
    host = urlsplit(f"//{request.host}").hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{network.port}{path}"
