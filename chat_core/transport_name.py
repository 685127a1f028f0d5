"""The one spelling of each transport, shared by modules, metrics, Locust, results and plots."""

from enum import StrEnum


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
