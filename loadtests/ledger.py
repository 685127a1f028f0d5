"""Completeness and delivery latency, counted by the load generator itself.

Every message a user sends is registered here *before* it is sent, with the recipients it
must reach (the members of its room, or the sender and the addressee of a private message).
Rooms never span processes, so one process's ledger is exact on its own, and the ledgers of
several processes are summed. Pure bookkeeping: no I/O, no Locust, no gevent.
"""

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Counts:
    sent: int = 0  # messages the server accepted
    expected: int = 0  # deliveries those messages owe (recipients at acceptance)
    delivered: int = 0  # expected deliveries that arrived
    lost: int = 0  # expected deliveries that never arrived (by the end of the drain)
    duplicated: int = 0  # a message a receiver had already had
    out_of_order: int = 0  # an expected message older than one the receiver already had
    unexpected: int = 0  # a message nobody was waiting for (e.g. a send that timed out)
    gaps: int = 0  # gap notices from the server: its retention dropped something
    resumed: int = 0  # messages sent before a reconnect and brought back by resuming
    reconnects: int = 0  # receiving connections re-established after a drop
    abandoned: int = 0  # deliveries owed to a user stopped before they arrived
    send_failures: int = 0  # sends that got no answer or were refused
    payload_bytes: int = 0  # sum of the delivered messages' JSON sizes

    def merge(self, other: "Counts") -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Counts":
        known = {item.name for item in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in known})


@dataclass
class LedgerReport:
    """One transport's counts from one or more processes, and its latency samples (ms): from
    the sender's `ts` (the delivery latency), and from the server's acceptance `at` (the way
    out alone) where the message carried one."""

    counts: Counts
    latencies_ms: array  # array('f'): deliveries that arrived inside the measurement window
    window_delivered: int = 0
    from_server_ms: array = field(default_factory=lambda: array("f"))  # the same deliveries

    def merge(self, other: "LedgerReport") -> None:
        self.counts.merge(other.counts)
        self.latencies_ms.extend(other.latencies_ms)
        self.from_server_ms.extend(other.from_server_ms)
        self.window_delivered += other.window_delivered

    def to_wire(self) -> dict[str, Any]:
        """A form Locust's messaging (msgpack) carries: plain ints and bytes."""
        return {
            "counts": self.counts.as_dict(),
            "latencies": self.latencies_ms.tobytes(),
            "from_server": self.from_server_ms.tobytes(),
            "window_delivered": self.window_delivered,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> "LedgerReport":
        samples, from_server = array("f"), array("f")
        samples.frombytes(data["latencies"])
        from_server.frombytes(data.get("from_server", b""))
        counts = Counts.from_dict(data["counts"])
        return cls(counts, samples, int(data["window_delivered"]), from_server)

    @classmethod
    def empty(cls) -> "LedgerReport":
        return cls(Counts(), array("f"))


class Ledger:
    def __init__(self, on_settled: Callable[[], None] | None = None) -> None:
        self.counts = Counts()
        self._waiting: dict[str, set[str]] = {}  # cid -> receivers it has not reached yet
        self._pending = 0  # sum of the sizes of those sets
        self._last_id: dict[str, int] = {}  # receiver -> newest id it has had
        self._gone: set[str] = set()
        self._latencies = array("f")  # ms, in arrival order
        self._arrivals = array("d")  # the receiver's clock at each arrival
        self._from_server = array("f")  # ms from the server's `at`; NaN where none was sent
        self._on_settled = on_settled

    @property
    def pending(self) -> int:
        """Deliveries still owed."""
        return self._pending

    # -- sending ----------------------------------------------------------------------------

    def expect(self, cid: str, recipients: Iterable[str]) -> None:
        """Register a message before it is sent: these receivers must each get it once."""
        waiting = {r for r in recipients if r not in self._gone}
        self._waiting[cid] = waiting
        self._pending += len(waiting)
        self.counts.expected += len(waiting)

    def accepted(self) -> None:
        self.counts.sent += 1

    def withdraw(self, cid: str) -> None:
        """The send failed: what it would have owed is no longer expected."""
        waiting = self._waiting.pop(cid, set())
        self._pending -= len(waiting)
        self.counts.expected -= len(waiting)
        self.counts.send_failures += 1
        self._check_settled()

    # -- receiving --------------------------------------------------------------------------

    def received(
        self, receiver: str, cid: str | None, msg_id: int, ts: float | None, arrival: float,
        size: int, accepted_at: float | None = None,
    ) -> float | None:  # fmt: skip
        """Count one message as it reaches `receiver`; its latency in ms if it was owed.
        `accepted_at` is the server's `at`: the time from it to `arrival` is the way out."""
        if receiver in self._gone:
            return None
        last = self._last_id.get(receiver, 0)
        waiting = self._waiting.get(cid) if cid is not None else None
        if waiting is None or receiver not in waiting:
            if msg_id <= last:
                self.counts.duplicated += 1
            else:
                self.counts.unexpected += 1
                self._last_id[receiver] = msg_id
            return None
        waiting.discard(receiver)
        if not waiting:
            del self._waiting[cid]
        self._pending -= 1
        self.counts.delivered += 1
        self.counts.payload_bytes += size
        if msg_id <= last:
            self.counts.out_of_order += 1
        else:
            self._last_id[receiver] = msg_id
        latency = None
        if ts is not None:
            latency = (arrival - ts) * 1000.0
            self._latencies.append(latency)
            self._arrivals.append(arrival)
            way_out = (arrival - accepted_at) * 1000.0 if accepted_at is not None else math.nan
            self._from_server.append(way_out)
        self._check_settled()
        return latency

    def gap(self) -> None:
        self.counts.gaps += 1

    def reconnected(self, resumed: int) -> None:
        self.counts.reconnects += 1
        self.counts.resumed += resumed

    def depart(self, receiver: str) -> None:
        """A user stopped: what it was still owed is abandoned, not lost."""
        self._gone.add(receiver)
        for cid in [cid for cid, waiting in self._waiting.items() if receiver in waiting]:
            waiting = self._waiting[cid]
            waiting.discard(receiver)
            if not waiting:
                del self._waiting[cid]
            self._pending -= 1
            self.counts.abandoned += 1
        self._check_settled()

    def _check_settled(self) -> None:
        if self._pending == 0 and self._on_settled is not None:
            self._on_settled()

    # -- the end ----------------------------------------------------------------------------

    def report(self, window_start: float | None, window_end: float | None) -> LedgerReport:
        """Counts (what is still owed is lost), and the samples that arrived in the window."""
        counts = Counts(**self.counts.as_dict())
        counts.lost = self._pending
        start = window_start if window_start is not None else -math.inf
        end = window_end if window_end is not None and window_start is not None else math.inf
        inside = [start <= arrival <= end for arrival in self._arrivals]
        samples = array("f", (v for v, keep in zip(self._latencies, inside, strict=True) if keep))
        way_out = array(
            "f",
            (
                v
                for v, keep in zip(self._from_server, inside, strict=True)
                if keep and not math.isnan(v)
            ),
        )
        return LedgerReport(counts, samples, window_delivered=len(samples), from_server_ms=way_out)
