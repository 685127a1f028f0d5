"""The argument over a network, from the runs made through `chatlab link`: latency against
the round trip beside theory, Hickson's "150 ms → 50 ms" measured, and the link's own
numbers (its bytes beside the server's, its CPU, the latency it adds).

Theory (reports/theory.py) adds RTT / 2 per one-way transit to the loopback figure; the
loopback part is estimated from the same sweep's WebSocket run without a link at the same
user count (every line that uses it says so).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chat_core import Transport
from lab.results import RunRow

from . import theory
from .rows import chatlab_rows, label, networked_rows, pick, where

NO_NETWORK_RUNS = (
    "No runs over an emulated link: `chatlab bench --quick` (or `make compare`) runs the "
    "four transports over a 100 ms round trip."
)


def network_label(row: RunRow) -> str:
    """The network a run's users had, in words."""
    if not row.link:
        words = "loopback"
    else:
        words = f"{row.rtt_ms:g} ms round trip"
        if row.jitter_ms:
            words += f", jitter up to {row.jitter_ms:g} ms"
        if row.rate_kbit:
            words += f", {row.rate_kbit:g} kbit/s"
    if row.new_connection_per_request:
        words += ", a new connection per request"
    return words


@dataclass(frozen=True, slots=True)
class Bases:
    """The loopback part of a latency, estimated from the WebSocket run without a link."""

    way_out_ms: float
    delivery_ms: float
    run_id: str | None  # None: no loopback run to estimate from (0 is used)


def loopback_bases(rows: Sequence[RunRow], users: int, workload: str = "chat") -> Bases:
    loop = chatlab_rows(rows, workload=workload)
    for transport in (Transport.WEBSOCKET, Transport.SSE):
        candidates = where(loop, transport=transport)
        row = pick(where(candidates, users=users)) or pick(candidates)
        if row is not None and row.latency_p50_ms is not None and not row.link:
            out = row.from_server_p50_ms if row.from_server_p50_ms is not None else 0.0
            return Bases(out, row.latency_p50_ms, row.run_id)
    return Bases(0.0, 0.0, None)


@dataclass(frozen=True, slots=True)
class LatencyLine:
    row: RunRow
    way_out_theory_ms: float
    delivery_theory_ms: float


@dataclass(frozen=True)
class NetworkLatency:
    lines: list[LatencyLine]
    bases: Bases | None
    notes: list[str] = field(default_factory=list)


def _latency_line(row: RunRow, bases: Bases) -> LatencyLine:
    args = (row.transport, row.rtt_ms, row.poll_interval_s)
    return LatencyLine(
        row,
        theory.way_out_ms(*args, base_ms=bases.way_out_ms),
        theory.delivery_ms(*args, base_ms=bases.delivery_ms),
    )


def network_latency(rows: Sequence[RunRow], workload: str = "chat") -> NetworkLatency:
    """Each transport's latency on loopback and over every round trip the sweep ran, for the
    workload's runs at the user count of its linked runs, theory beside each."""
    linked = networked_rows(rows, workload=workload)
    if not linked:
        return NetworkLatency([], None, [NO_NETWORK_RUNS])
    users = min(row.users for row in linked)
    linked = [row for row in linked if row.users == users]
    loop = [r for r in chatlab_rows(rows, workload=workload, users=users) if not r.link]
    intervals = {r.poll_interval_s for r in linked if r.transport == Transport.SHORT_POLL}
    loop = [r for r in loop if r.transport != Transport.SHORT_POLL or r.poll_interval_s in
            (intervals or {1.0})]  # fmt: skip
    bases = loopback_bases(rows, users, workload)
    chosen = sorted(loop + linked, key=lambda r: (_order(r.transport), r.rtt_ms,
                                                  r.new_connection_per_request))  # fmt: skip
    notes = [
        "Theory: the way out of the server (from its acceptance of the message to the arrival) "
        "is half an interval plus one transit for short polling, one transit for the others "
        "(a parked long poll); a delivery adds the sender's own transit to the server. One "
        "transit is RTT / 2 over the link, plus the loopback part.",
    ]
    if bases.run_id is not None:
        notes.append(
            f"The loopback part is an estimate: the WebSocket run without a link "
            f"({bases.run_id}) took {bases.way_out_ms:,.2f} ms on the way out and "
            f"{bases.delivery_ms:,.2f} ms to deliver (median)."
        )
    else:
        notes.append("No loopback WebSocket run to estimate the loopback part: 0 ms is used.")
    if any(r.new_connection_per_request and r.transport == Transport.SHORT_POLL for r in chosen):
        notes.append(
            "A new connection per poll costs each poll a round trip, but polls sent at a fixed "
            "rate still reach the server once an interval: a message waits as long as with "
            "kept-alive polls, so the theory is the same (the poll's own time is in the "
            "“150 ms → 50 ms” table)."
        )
    return NetworkLatency([_latency_line(r, bases) for r in chosen], bases, notes)


def _order(transport: str) -> int:
    return list(Transport).index(Transport(transport))


# -- Hickson's "150 ms → 50 ms" -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HicksonLine:
    what: str
    published_ms: float | None
    measured_ms: float | None
    theory_ms: float
    run_id: str | None
    valid: bool
    source: str  # which figure of the run was used


@dataclass(frozen=True)
class Hickson:
    rtt_ms: float | None
    lines: list[HicksonLine]
    sentences: list[str]


def hickson(rows: Sequence[RunRow]) -> Hickson:
    """A message fetched over a fresh connection, over a kept-alive one, and pushed, over the
    link of the round trip Hickson's figures assume (100 ms) or the nearest the sweep ran."""
    fresh_runs = networked_rows(
        rows, transport=Transport.SHORT_POLL, new_connection_per_request=True
    )
    fresh_runs = [r for r in fresh_runs if r.poll_response_p50_ms is not None]
    if not fresh_runs:
        return Hickson(None, [], [
            "No short-polling run with a new connection per poll over a link: "
            "`chatlab bench --quick` (or `make compare`) runs it over a 100 ms round trip."
        ])  # fmt: skip
    rtt = min({r.rtt_ms for r in fresh_runs}, key=lambda v: abs(v - theory.HICKSON_RTT_MS))
    fresh = pick(where(fresh_runs, rtt_ms=rtt))
    assert fresh is not None
    same = {"rtt_ms": rtt, "users": fresh.users, "workload": fresh.workload}
    kept = pick(
        r
        for r in networked_rows(rows, transport=Transport.SHORT_POLL, **same)
        if not r.new_connection_per_request and r.poll_response_p50_ms is not None
    )
    push = pick(
        r
        for r in networked_rows(rows, transport=Transport.WEBSOCKET, rtt_ms=rtt)
        if r.from_server_p50_ms is not None and not r.jitter_ms and not r.rate_kbit
    )
    lines = [
        HicksonLine("a message fetched over a new connection (handshake, request, answer)",
                    theory.HICKSON_FRESH_MS, fresh.poll_response_p50_ms,
                    theory.poll_round_trip_ms(rtt, new_connection=True), fresh.run_id,
                    fresh.valid, "median time of a poll, request to answer"),
    ]  # fmt: skip
    if kept is not None:
        lines.append(HicksonLine(
            "the same over a kept-alive connection (request, answer)", None,
            kept.poll_response_p50_ms, theory.poll_round_trip_ms(rtt), kept.run_id, kept.valid,
            "median time of a poll, request to answer"))  # fmt: skip
    if push is not None:
        lines.append(HicksonLine(
            "a pushed message (WebSocket): just the packet", theory.HICKSON_PUSH_MS,
            push.from_server_p50_ms, theory.one_way_ms(rtt), push.run_id, push.valid,
            "median way out, the server's acceptance to the arrival"))  # fmt: skip
    return Hickson(rtt, lines, _hickson_sentences(rtt, lines, push is not None))


def _hickson_sentences(rtt: float, lines: list[HicksonLine], pushed: bool) -> list[str]:
    fresh = lines[0]
    measured = fresh.measured_ms or 0.0
    said = [
        f"Over a {rtt:g} ms round trip ({rtt / 2:g} ms each way"
        + (
            ", the network Hickson's figures assume"
            if rtt == theory.HICKSON_RTT_MS
            else f"; Hickson's figures assume {theory.HICKSON_RTT_MS:g} ms"
        )
        + f"): a message fetched over a new connection took {measured:,.0f} ms against the "
        f"published {fresh.published_ms:,.0f}, because Hickson counts the set-up round trip and "
        f"one packet for the message, while a client that must ask for its message also sends "
        f"its request one way first: two round trips ({fresh.theory_ms:,.0f} ms), half a round "
        "trip more than his figure, plus the server's and the link's own time."
    ]
    if pushed:
        push = lines[-1]
        said.append(
            f"The pushed message took {push.measured_ms:,.1f} ms on its way out against the "
            f"published {push.published_ms:,.0f} ms: one packet, as he says, plus "
            f"{(push.measured_ms or 0.0) - push.theory_ms:,.1f} ms of the server's and the "
            "link's own time."
        )
    else:
        said.append("No WebSocket run over the same link: the pushed side is not measured.")
    return said


# -- the link itself ------------------------------------------------------------------------


def linked_runs(rows: Sequence[RunRow]) -> list[RunRow]:
    """Every run through a link, whichever server it measured."""
    return [row for row in rows if row.link]


def link_agreement(rows: Sequence[RunRow]) -> str | None:
    """How far the link's byte counts were from the server's, in one sentence."""
    apart = [r.link_bytes_vs_server_percent for r in linked_runs(rows)]
    apart = [value for value in apart if value is not None]
    if not apart:
        return None
    worst = max(apart, key=abs)
    mean = sum(abs(value) for value in apart) / len(apart)
    return (
        f"Over the same windows, the bytes the link carried and the server's own count for the "
        f"transport (TCP_INFO) were {mean:.2f}% apart on average over {len(apart)} runs, "
        f"{worst:+.2f}% at most. The two ends count the same bytes at different moments: the "
        "server charges an HTTP request's incoming bytes once it has answered it, the link as "
        "it carries them, so requests pending across a window's start or end (long polls, "
        "above all) fall in different windows; bytes inside the link when the counters are "
        "read are counted by one end only."
    )


def link_cost(environment: dict[str, Any], rows: Sequence[RunRow]) -> list[str]:
    """The link's own cost: the latency it adds at rtt 0, and its CPU in the runs."""
    said = []
    added = environment.get("link_added_latency")
    if added:
        said.append(
            f"At rtt 0 the link adds {added['added_p50_us']:,.0f} µs to a round trip at the "
            f"median ({added['added_p99_us']:,.0f} µs at p99): {added['round_trips']:,} pings "
            f"of 64 bytes, straight ({added['straight_p50_us']:,.0f} µs) and through a link "
            f"({added['linked_p50_us']:,.0f} µs), alternated, on the generator's cores before "
            "the runs."
        )
    zero = [r for r in linked_runs(rows) if r.rtt_ms == 0 and r.latency_p50_ms is not None]
    for row in zero:
        bare = pick(
            r
            for r in where(
                rows,
                server=row.server,
                transport=row.transport,
                workload=row.workload,
                users=row.users,
            )  # fmt: skip
            if not r.link and r.latency_p50_ms is not None
        )
        if bare is not None:
            assert bare.latency_p50_ms is not None and row.latency_p50_ms is not None
            said.append(
                f"{label(row.transport)} through a link of rtt 0 ({row.run_id}): median "
                f"delivery {row.latency_p50_ms:,.2f} ms against {bare.latency_p50_ms:,.2f} ms "
                f"without it ({bare.run_id}), {row.latency_p50_ms - bare.latency_p50_ms:+,.2f} "
                "ms (two transits through the link)."
            )
    measured = [r for r in linked_runs(rows) if r.link_cpu_per_msg_us is not None]
    if measured:
        low = min(measured, key=lambda r: r.link_cpu_per_msg_us or 0.0)
        high = max(measured, key=lambda r: r.link_cpu_per_msg_us or 0.0)
        busiest = max(measured, key=lambda r: r.link_cpu_percent or 0.0)
        said.append(
            f"In the runs, the link spent {low.link_cpu_per_msg_us:,.1f} to "
            f"{high.link_cpu_per_msg_us:,.1f} µs of CPU per delivered message "
            f"({label(low.transport)} in {low.run_id}, {label(high.transport)} in "
            f"{high.run_id}), {busiest.link_cpu_percent:,.1f}% of a core at most "
            f"({busiest.run_id}); it counts against the generator's 85% (the table's last "
            "column)."
        )
    return said
