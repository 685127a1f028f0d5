"""The one spelling of each transport, shared by modules, metrics, Locust, results and plots."""

from enum import StrEnum

# The request header in which an HTTP client names its transport, so that the server charges
# its sends and room calls to that transport's counters (PROTOCOL.md, "Observability").
TRANSPORT_HEADER = "X-Chatlab-Transport"


class Transport(StrEnum):
    SHORT_POLL = "short_poll"
    LONG_POLL = "long_poll"
    SSE = "sse"
    WEBSOCKET = "websocket"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Transport.SHORT_POLL: "short polling",
    Transport.LONG_POLL: "long polling",
    Transport.SSE: "Server-Sent Events",
    Transport.WEBSOCKET: "WebSocket",
}
