"""Choosing rows from a sweep: which runs a plot or a claim compares.

Comparisons are made within one sweep, as ratios (docs/MEASURING.md). The everyday comparison is
between chatlab's own transports; the baseline server's runs are compared with chatlab's
WebSocket run under their own load. A sweep may hold several runs that differ in one knob
(poll interval, header profile); the everyday comparison uses the standard setting of each
knob, and the plots about that knob use the rest. The network is such a knob: the everyday
comparison is made on loopback with kept-alive connections (or, in a sweep without such runs,
on its most common network); the runs through an emulated link are `networked_rows`.
"""

from collections import Counter
from collections.abc import Iterable, Sequence

from chat_core import Transport
from lab.results import RunRow
from lab.servers import BARE_BROADCAST, CHATLAB

TRANSPORTS: tuple[str, ...] = tuple(t.value for t in Transport)
BASELINE = BARE_BROADCAST.name  # a bare gevent WebSocket broadcast loop under the same load
STANDARD_POLL_INTERVAL_S = 1.0
STANDARD_PROFILE = "minimal"


def label(transport: str) -> str:
    """A chatlab transport in words."""
    return Transport(transport).label


def where(rows: Iterable[RunRow], **equal: object) -> list[RunRow]:
    """The rows whose fields equal every given value."""
    return [row for row in rows if all(getattr(row, k) == v for k, v in equal.items())]


# (link, rtt_ms, jitter_ms, rate_kbit, new_connection_per_request) of a run on loopback
LOOPBACK = (False, 0.0, 0.0, None, False)


def network(row: RunRow) -> tuple:
    """The network a run's users reached the server over, and how their requests used it."""
    return (row.link, row.rtt_ms, row.jitter_ms, row.rate_kbit, row.new_connection_per_request)


def standard_network(rows: Sequence[RunRow]) -> tuple | None:
    """Loopback with kept-alive connections where the rows have it, else their most common."""
    networks = [network(row) for row in rows]
    return LOOPBACK if LOOPBACK in networks else _most_common(networks)  # type: ignore[return-value]


def _on_standard_network(rows: list[RunRow], **equal: object) -> list[RunRow]:
    standard = standard_network(rows)
    return [row for row in where(rows, **equal) if network(row) == standard]


def chatlab_rows(rows: Iterable[RunRow], **equal: object) -> list[RunRow]:
    """chatlab's own runs (no baseline or peer server) on the sweep's standard network (see
    `standard_network`) whose fields equal every given value."""
    return _on_standard_network(where(rows, server=CHATLAB.name), **equal)


def networked_rows(rows: Iterable[RunRow], **equal: object) -> list[RunRow]:
    """chatlab's own runs through an emulated link whose fields equal every given value."""
    return [row for row in where(rows, server=CHATLAB.name, **equal) if row.link]


def baseline_rows(rows: Iterable[RunRow]) -> list[RunRow]:
    """The bare broadcast loop's runs on the standard network that measured server CPU per
    message."""
    bare = _on_standard_network(where(rows, server=BASELINE))
    return [row for row in bare if row.server_cpu_per_msg_us]


def _most_common(values: Iterable[object]) -> object | None:
    counts = Counter(values).most_common(1)
    return counts[0][0] if counts else None


def standard_profile(rows: Sequence[RunRow]) -> str | None:
    profiles = {row.header_profile for row in rows}
    if STANDARD_PROFILE in profiles:
        return STANDARD_PROFILE
    return _most_common(row.header_profile for row in rows)  # type: ignore[return-value]


def standard_interval(rows: Sequence[RunRow]) -> float | None:
    """The poll interval of the everyday short-polling runs (1 s when the sweep has it)."""
    intervals = [row.poll_interval_s for row in rows if row.transport == Transport.SHORT_POLL]
    if STANDARD_POLL_INTERVAL_S in intervals:
        return STANDARD_POLL_INTERVAL_S
    return _most_common(intervals)  # type: ignore[return-value]


# Knobs a sweep may vary within one workload (a bigger room, a longer send interval…); the
# everyday comparison keeps each at the value most of the workload's runs share.
_KNOBS = ("room_size", "send_interval_s", "long_poll_timeout_s", "burst_size", "private_share")


def comparable(rows: Sequence[RunRow], workload: str) -> list[RunRow]:
    """One workload's rows of chatlab's own server at the standard header profile, short-poll
    interval and knobs."""
    chosen = chatlab_rows(rows, workload=workload)
    profile = standard_profile(chosen)
    interval = standard_interval(chosen)
    chosen = [
        row
        for row in chosen
        if row.header_profile == profile
        and (row.transport != Transport.SHORT_POLL or row.poll_interval_s == interval)
    ]
    for knob in _KNOBS:
        usual = _most_common(getattr(row, knob, None) for row in chosen)
        chosen = [row for row in chosen if getattr(row, knob, None) == usual]
    return chosen


def pick(rows: Iterable[RunRow]) -> RunRow | None:
    """One run out of repeats: the first valid one, else the first."""
    rows = list(rows)
    for row in rows:
        if row.valid:
            return row
    return rows[0] if rows else None


def user_levels(rows: Iterable[RunRow]) -> list[int]:
    return sorted({row.users for row in rows})


def common_level(rows: Sequence[RunRow], transports: Sequence[str] = TRANSPORTS) -> int | None:
    """The highest user count at which every transport has a run, valid ones preferred."""
    best: int | None = None
    for need_valid in (True, False):
        for users in user_levels(rows):
            present = {
                row.transport
                for row in rows
                if row.users == users and (row.valid or not need_valid)
            }
            if all(t in present for t in transports):
                best = users
        if best is not None:
            return best
    return None


def overhead_per_msg(row: RunRow) -> float | None:
    """Server → client bytes per delivered message that were not the message itself."""
    if row.wire_bytes_out_per_msg is None or row.payload_bytes_per_msg is None:
        return None
    return row.wire_bytes_out_per_msg - row.payload_bytes_per_msg


def total_overhead_per_msg(row: RunRow) -> float | None:
    """Bytes per delivered message, both directions, that were not the message itself."""
    if row.wire_bytes_per_msg is None or row.payload_bytes_per_msg is None:
        return None
    return row.wire_bytes_per_msg - row.payload_bytes_per_msg


def delivered_in_window(row: RunRow) -> int:
    """Deliveries inside the measurement window, over which requests, bytes and CPU are
    counted; the whole run's count for results that have no window."""
    return getattr(row, "window_delivered", 0) or row.delivered


def requests_per_msg(row: RunRow) -> float | None:
    delivered = delivered_in_window(row)
    return row.requests / delivered if delivered else None


def same_load(rows: Iterable[RunRow], base: RunRow) -> list[RunRow]:
    """Other servers' runs under the same load as `base`: those the sweep linked to it, else
    the ones that match it knob for knob (a room of 100 is not a room of 10)."""
    rows = [row for row in rows if row.server != base.server]
    linked = [row for row in rows if getattr(row, "bare_run_id", "") == base.run_id]
    if linked:
        return linked
    return [row for row in rows if row.load == base.load]
