"""Server-side counters, kept in one place: per transport, and for the process.

Transports only bump plain integers on the hot path; Prometheus text and the JSON view are
built from them when someone asks.
"""

import socket
import weakref
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import CollectorRegistry

from chat_core import Session, Transport
from lab.process_usage import process_usage
from lab.wire_bytes import WireCount, read_wire_count

API = "api"  # sends and room calls from clients that name no transport
COUNTED = (*(str(t) for t in Transport), API)


class _Counts:
    """Plain integers, each named in the subclass's __slots__ and starting at 0."""

    __slots__ = ()

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class TransportCounters(_Counts):
    __slots__ = ("requests", "open", "bytes_in", "bytes_out", "segs_in", "segs_out",
                 "delivered", "polls", "empty_polls")  # fmt: skip
    requests: int
    open: int
    bytes_in: int
    bytes_out: int
    segs_in: int
    segs_out: int
    delivered: int
    polls: int  # poll answers, short or long: the share of them that were empty is the point
    empty_polls: int


class SessionWire(_Counts):
    """One session's own traffic, so that a client can show the bytes it really cost."""

    __slots__ = ("requests", "bytes_in", "bytes_out")
    requests: int
    bytes_in: int
    bytes_out: int


class ConnectionMeter:
    """One TCP connection's byte counts, charged to the request on it: to its transport's
    counters and to the session that made it, once that is known.

    The kernel counts a byte as sent when it leaves, which can be after the response's last
    write returned: such a tail belongs to the answer before, while the incoming bytes that
    follow are the next request's own. The count is read once per request, when its answer
    is written; only when that read finds bytes the kernel has not sent yet is it read again
    as the next request begins, to settle the tail. (Reading at both ends of every request,
    as before, cost 2 TCP_INFO reads and 2 FIONREAD ioctls per poll; now it is one of each.)
    """

    __slots__ = ("sock", "counters", "session_wire", "seen", "began", "last")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.counters: TransportCounters | None = None  # whom the current request charges
        self.session_wire: SessionWire | None = None
        self.seen = WireCount()
        self.began = False  # a request began since the last end()
        self.last: tuple[TransportCounters | None, SessionWire | None] = (None, None)

    def begin(self, counters: TransportCounters | None) -> None:
        """A request starts; `counters` are its transport's (None: charged to no transport)."""
        if self.seen.unsent:
            self._settle_tail()
        self.began = True
        if counters is not None:
            counters.requests += 1
            counters.open += 1
        self.counters = counters

    def end(self) -> None:
        """The request's response is written: charge its bytes and close it."""
        if not self.began:  # the connection ended between requests
            if self.seen.unsent:
                self._settle_tail()
            return
        self.settle()
        if self.counters is not None:
            self.counters.open -= 1
        self.last = (self.counters, self.session_wire)
        self.counters, self.session_wire, self.began = None, None, False

    def charge_session(self, wire: SessionWire) -> None:
        wire.requests += 1
        self.session_wire = wire

    def settle(self) -> None:
        """Charge every byte since the last settle to the current request."""
        now = read_wire_count(self.sock)
        if now is not None:
            _charge(self.seen, now, self.counters, self.session_wire)
            self.seen = now

    def _settle_tail(self) -> None:
        """Charge outgoing bytes since the last settle to the previous request."""
        now = read_wire_count(self.sock)
        if now is None:
            return
        outgoing = self.seen._replace(bytes_out=now.bytes_out, segs_out=now.segs_out,
                                      unsent=now.unsent)  # fmt: skip
        _charge(self.seen, outgoing, *self.last)
        self.seen = outgoing


def _charge(
    before: WireCount,
    after: WireCount,
    counters: TransportCounters | None,
    wire: SessionWire | None,
) -> None:
    if counters is not None:
        counters.bytes_in += after.bytes_in - before.bytes_in
        counters.bytes_out += after.bytes_out - before.bytes_out
        counters.segs_in += after.segs_in - before.segs_in
        counters.segs_out += after.segs_out - before.segs_out
    if wire is not None:
        wire.bytes_in += after.bytes_in - before.bytes_in
        wire.bytes_out += after.bytes_out - before.bytes_out


class Metrics:
    def __init__(self) -> None:
        self.transports = {name: TransportCounters() for name in COUNTED}
        # connections whose response is still being written (SSE, WebSocket): their bytes are
        # settled on every snapshot, not only when they end
        self.long_lived: set[ConnectionMeter] = set()
        self.sessions: weakref.WeakKeyDictionary[Session, SessionWire] = weakref.WeakKeyDictionary()

    def session_wire(self, session: Session) -> SessionWire:
        wire = self.sessions.get(session)
        if wire is None:
            wire = self.sessions[session] = SessionWire()
        return wire

    def settle_long_lived(self) -> None:
        for meter in self.long_lived:
            meter.settle()

    def snapshot(self) -> dict[str, Any]:
        self.settle_long_lived()
        return {
            "transports": {name: c.as_dict() for name, c in self.transports.items()},
            "process": process_usage(),
        }

    def prometheus_registry(self) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        return registry


_PROMETHEUS = (
    ("requests", "chatlab_requests", "HTTP requests answered; SSE and WebSocket connections", True),
    ("bytes_in", "chatlab_bytes_in", "Bytes received on the server's sockets", True),
    ("bytes_out", "chatlab_bytes_out", "Bytes sent on the server's sockets", True),
    ("delivered", "chatlab_delivered", "Messages handed to clients", True),
    ("polls", "chatlab_polls", "Poll answers, short or long", True),
    ("empty_polls", "chatlab_empty_polls", "Poll answers that carried no message", True),
    ("open", "chatlab_open", "Open connections, long polls and requests in flight", False),
)


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        snapshot = self._metrics.snapshot()
        for field, name, doc, is_counter in _PROMETHEUS:
            family_class = CounterMetricFamily if is_counter else GaugeMetricFamily
            family = family_class(name, doc, labels=["transport"])
            for transport, values in snapshot["transports"].items():
                family.add_metric([transport], values[field])
            yield family
        process = snapshot["process"]
        yield CounterMetricFamily(
            "chatlab_process_cpu_seconds", "Server CPU time", value=process["cpu_seconds"]
        )
        yield GaugeMetricFamily(
            "chatlab_process_resident_memory_bytes", "Resident memory", value=process["rss_bytes"]
        )
