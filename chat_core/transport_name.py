"""The one spelling of each transport, shared by modules, metrics, Locust, results and plots."""

from enum import StrEnum

# The request header in which an HTTP client names its transport, so that the server charges
# its sends and room calls to that transport's counters (docs/PROTOCOL.md, "Observability").
TRANSPORT_HEADER = "X-Chatlab-Transport"


class Transport(StrEnum):
    """Each member is its spelling; `label` names it in words, for pages, console and plots."""

    label: str

    def __new__(cls, spelling: str, label: str) -> "Transport":
        member = str.__new__(cls, spelling)
        member._value_ = spelling
        member.label = label
        return member

    SHORT_POLL = "short_poll", "short polling"
    LONG_POLL = "long_poll", "long polling"
    SSE = "sse", "Server-Sent Events"
    WEBSOCKET = "websocket", "WebSocket"
