"""A run's row: the numbers docs/MEASURING.md defines, derived from what the run left behind.
Pure arithmetic.

Inputs: the scenario's own output (counts, the measurement window, the server's metrics at
its start and end, the generators' CPU), the raw latency samples, Locust's JSON statistics,
and what the sweep measured around the run. Output: one `RunRow`.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chat_core import Transport
from lab.results import TCPIP_HEADER_BYTES_ESTIMATE, CapacityRow, RunRow
from lab.servers import BARE_BROADCAST, CHATLAB, FLASK_SOCKETIO, SERVERS

from .plan import RunSpec

CLIENT_WIRE_METER = "client_wire"  # loadtests/client_wire.py's meter: bytes at the client

GENERATOR_CPU_LIMIT = 85.0  # percent of one core; above it the run measured the generator
CONNECTION_TRANSPORTS = ("long_poll", "sse", "websocket")  # whose `open` counts connections
CHATLAB_WEBSOCKET = (CHATLAB.name, Transport.WEBSOCKET)  # what "against WebSocket" compares with


@dataclass(frozen=True)
class RunFacts:
    """What the sweep observed around one run."""

    run_id: str
    started_at: str
    ended_at: str
    locust_exit_code: int | None = None
    generator_cpu_percent_run: float | None = None
    server_pinned: bool = False
    server_cpus: str = ""
    generator_cpus: str = ""
    cores: int = 1
    server_before: dict[str, Any] | None = None  # /api/metrics of the fresh server
    generator_cores: int = 1  # the cores the load generator (and the link) may use


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted samples: the smallest sample such that at
    least p% of all samples are at or below it."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])


def latency_summary(samples: Iterable[float]) -> dict[str, float | int | None]:
    ordered = sorted(samples)
    count = len(ordered)
    return {
        "samples": count,
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": float(ordered[-1]) if ordered else None,
        "mean": sum(ordered) / count if count else None,
    }


def per(amount: float | None, count: float | None) -> float | None:
    """amount / count, or None when either is unknown or count is zero."""
    if amount is None or not count:
        return None
    return amount / count


def counter_delta(start: dict | None, end: dict | None, transport: str, key: str) -> int | None:
    """How much one of the server's per-transport counters grew, None if not reported."""
    if not start or not end:
        return None
    before = start.get("transports", {}).get(transport, {}).get(key)
    after = end.get("transports", {}).get(transport, {}).get(key)
    if before is None or after is None:
        return None
    return int(after) - int(before)


def derive_row(
    spec: RunSpec,
    facts: RunFacts,
    scenario: dict[str, Any] | None,
    samples: Sequence[float],
    locust_stats: list[dict[str, Any]] | None,
) -> RunRow:
    row = RunRow(
        run_id=facts.run_id,
        server=spec.server,
        transport=spec.transport,
        workload=spec.workload,
        users=spec.users,
        room_size=spec.room_size,
        send_interval_s=spec.effective_send_interval,
        poll_interval_s=spec.poll_interval,
        long_poll_timeout_s=spec.long_poll_timeout,
        header_profile=spec.header_profile,
        duration_s=spec.window,
        started_at=facts.started_at,
        ended_at=facts.ended_at,
        label=spec.label,
        burst_size=spec.burst_size if spec.workload == "burst" else 0,
        private_share=spec.private_share if spec.workload == "chat" else 0.0,
        locust_exit_code=facts.locust_exit_code,
        generator_cpu_percent_run=facts.generator_cpu_percent_run,
        server_pinned=facts.server_pinned,
        server_cpus=facts.server_cpus,
        generator_cpus=facts.generator_cpus,
        link=spec.linked,
        rtt_ms=spec.rtt_ms or 0.0,
        jitter_ms=spec.jitter_ms,
        rate_kbit=spec.rate_kbit,
        new_connection_per_request=spec.new_connection,
    )
    if facts.server_before:
        row.server_rss_before_bytes = int(facts.server_before["process"]["rss_bytes"])
    row.locust_failures = sum(int(s.get("num_failures", 0)) for s in locust_stats or [])
    if spec.transport == Transport.SHORT_POLL:
        _fill_poll_response(row, locust_stats or [], f"{spec.transport} /api/poll")
    if scenario is not None:
        _fill_from_scenario(row, spec, scenario, samples)
        _fill_link(row, scenario, facts.generator_cores)
    row.invalid_reasons = invalid_reasons(row, scenario, facts.cores)
    row.valid = not row.invalid_reasons
    return row


def _fill_from_scenario(
    row: RunRow, spec: RunSpec, scenario: dict[str, Any], samples: Sequence[float]
) -> None:
    client = spec.client  # what the clients and the server's metrics call the transport
    counts = scenario.get("transports", {}).get(client, {})
    for name in ("sent", "expected", "delivered", "lost", "duplicated", "out_of_order", "gaps",
                 "resumed", "unexpected", "reconnects", "send_failures", "abandoned"):  # fmt: skip
        setattr(row, name, int(counts.get(name, 0)))
    row.window_delivered = int(counts.get("window_delivered", 0))
    row.payload_bytes_per_msg = per(counts.get("payload_bytes"), counts.get("delivered"))

    way_out = counts.get("from_server_ms") or {}
    row.from_server_p50_ms, row.from_server_p99_ms = way_out.get("p50"), way_out.get("p99")
    row.from_server_max_ms, row.from_server_mean_ms = way_out.get("max"), way_out.get("mean")

    latency = latency_summary(samples)
    row.latency_samples = int(latency["samples"] or 0)
    row.latency_p50_ms, row.latency_p95_ms = latency["p50"], latency["p95"]
    row.latency_p99_ms, row.latency_max_ms = latency["p99"], latency["max"]
    row.latency_mean_ms = latency["mean"]

    generators = scenario.get("generators", [])
    row.generator_processes = max(1, len(generators))
    cpu = [g["cpu_percent"] for g in generators if g.get("cpu_percent") is not None]
    row.generator_cpu_percent = max(cpu) if cpu else 0.0

    window = scenario.get("window")
    if not window:
        return
    seconds = float(window["seconds"])
    start, end = scenario.get("server_start"), scenario.get("server_end")
    delivered = row.window_delivered
    row.window_s = seconds
    row.deliveries_per_s = delivered / seconds if seconds > 0 else 0.0

    def delta(key: str) -> int | None:
        return counter_delta(start, end, client, key)

    bytes_in, bytes_out = delta("bytes_in"), delta("bytes_out")
    server = SERVERS.get(spec.server)
    if server is not None and not server.counts_bytes:
        # counted at the load generator's sockets: what it received is what the server sent
        row.wire_counted_at = "client"
        at_client = (scenario.get("meters") or {}).get(CLIENT_WIRE_METER) or {}
        bytes_in, bytes_out = at_client.get("bytes_out"), at_client.get("bytes_in")
    if bytes_in is not None and bytes_out is not None:
        row.wire_bytes_in, row.wire_bytes_out = bytes_in, bytes_out
        row.wire_bytes_in_per_msg = per(bytes_in, delivered)
        row.wire_bytes_out_per_msg = per(bytes_out, delivered)
        row.wire_bytes_per_msg = per(bytes_in + bytes_out, delivered)
    segments_in, segments_out = delta("segs_in"), delta("segs_out")
    if segments_in is not None and segments_out is not None:
        segments = segments_in + segments_out
        row.tcpip_overhead_per_msg_estimate = per(segments * TCPIP_HEADER_BYTES_ESTIMATE, delivered)
    row.requests = delta("requests") or 0
    row.requests_per_s = row.requests / seconds if seconds > 0 else 0.0
    row.empty_polls = delta("empty_polls") or 0
    if spec.transport in ("short_poll", "long_poll"):
        # polls, not requests: the transport's requests include its clients' sends
        row.polls = delta("polls") or 0
        row.empty_poll_share = per(row.empty_polls, row.polls)
    row.server_delivered = delta("delivered") or 0

    if start and end:
        row.server_cpu_s = float(end["process"]["cpu_seconds"]) - float(
            start["process"]["cpu_seconds"]
        )
        cpu_per_msg = per(row.server_cpu_s, delivered)
        row.server_cpu_per_msg_us = cpu_per_msg * 1e6 if cpu_per_msg is not None else None
        row.server_rss_bytes = int(end["process"]["rss_bytes"])
        row.open_connections = int(end.get("transports", {}).get(client, {}).get("open", 0))
        if spec.transport in CONNECTION_TRANSPORTS and row.server_rss_before_bytes:
            grown = row.server_rss_bytes - row.server_rss_before_bytes
            row.rss_per_connection_bytes = per(grown, row.open_connections)


def _fill_poll_response(row: RunRow, stats: list[dict[str, Any]], name: str) -> None:
    """A poll's own duration, request to answer, from Locust's statistics of the run."""
    entry = next((s for s in stats if s.get("name") == name), None)
    if entry is None or not entry.get("num_requests"):
        return
    count = int(entry["num_requests"])
    row.poll_response_mean_ms = float(entry["total_response_time"]) / count
    buckets = sorted((float(ms), int(n)) for ms, n in entry.get("response_times", {}).items())
    seen = 0
    for ms, n in buckets:  # the histogram's nearest-rank median
        seen += n
        if seen * 2 >= count:
            row.poll_response_p50_ms = ms
            break


def _fill_link(row: RunRow, scenario: dict[str, Any], generator_cores: int) -> None:
    """The link's bytes, connections and CPU over the window, read by the coordinator at the
    moments it read the server's metrics; and the generator's side in all."""
    start, end = scenario.get("link_start"), scenario.get("link_end")
    seconds = row.window_s
    if row.link and start and end and seconds:
        row.link_bytes_up = int(end["bytes"]["up_written"]) - int(start["bytes"]["up_written"])
        row.link_bytes_down = int(end["bytes"]["down_read"]) - int(start["bytes"]["down_read"])
        server = row.wire_bytes_in + row.wire_bytes_out
        if server:
            linked = row.link_bytes_up + row.link_bytes_down
            row.link_bytes_vs_server_percent = 100 * (linked - server) / server
        opened = [(reading.get("connections") or {}).get("accepted") for reading in (start, end)]
        if None not in opened:
            row.link_connections = int(opened[1]) - int(opened[0])
        row.link_cpu_s = float(end["cpu_seconds"]) - float(start["cpu_seconds"])
        row.link_cpu_percent = 100 * row.link_cpu_s / seconds
        per_msg = per(row.link_cpu_s, row.window_delivered)
        row.link_cpu_per_msg_us = per_msg * 1e6 if per_msg is not None else None
    if row.window_s is None:
        return
    generators = [g.get("cpu_percent") or 0.0 for g in scenario.get("generators", [])]
    link = row.link_cpu_percent or 0.0
    row.generator_side_cpu_percent = (sum(generators) + link) / max(1, generator_cores)


def invalid_reasons(row: RunRow, scenario: dict[str, Any] | None, cores: int) -> list[str]:
    """Why a run does not count (docs/MEASURING.md, "When a run counts"); empty if it does."""
    reasons = []
    if scenario is None:
        return ["the scenario left no results (did Locust start?)"]
    if row.locust_exit_code is None:
        reasons.append("Locust did not finish by itself: the sweep stopped it at its time limit")
    elif row.locust_exit_code != 0:
        reasons.append(f"Locust exited with code {row.locust_exit_code}")
    if row.generator_cpu_percent >= GENERATOR_CPU_LIMIT:
        reasons.append(
            f"load generator at {row.generator_cpu_percent:.0f}% CPU "
            f"(limit {GENERATOR_CPU_LIMIT:.0f}%): the run measured the generator"
        )
    if row.link and row.window_s is not None and row.link_cpu_percent is None:
        reasons.append(
            "the link's counts and CPU could not be read: the generator's load is unknown"
        )
    if (row.link_cpu_percent or 0.0) >= GENERATOR_CPU_LIMIT:
        reasons.append(
            f"the link at {row.link_cpu_percent:.0f}% CPU (limit {GENERATOR_CPU_LIMIT:.0f}%): "
            "the run measured the link"
        )
    side = row.generator_side_cpu_percent
    if side is not None and side >= GENERATOR_CPU_LIMIT and side > row.generator_cpu_percent:
        together = "the load generator and the link" if row.link else "the load generators"
        reasons.append(
            f"the generator's cores at {side:.0f}% CPU, {together} together "
            f"(limit {GENERATOR_CPU_LIMIT:.0f}%): the run measured the generator"
        )
    if row.lost:
        reasons.append(f"{row.lost} deliveries lost")
    if row.duplicated:
        reasons.append(f"{row.duplicated} deliveries duplicated")
    if row.out_of_order:
        reasons.append(f"{row.out_of_order} deliveries out of order")
    if row.locust_failures:
        reason = f"{row.locust_failures} requests failed"
        errors = scenario.get("locust_errors") or []
        if errors:
            reason += f" (e.g. {errors[0]['method']} {errors[0]['name']}: {errors[0]['error']})"
        reasons.append(reason)
    if cores >= 2 and not row.server_pinned:
        reasons.append("the server was not pinned to its own core")
    if row.window_s is None:
        reasons.append("no measurement window: the users never all became ready")
    elif row.workload != "idle" and row.window_delivered == 0:
        reasons.append("nothing was delivered inside the measurement window")
    return reasons


def add_comparisons(rows: list[RunRow]) -> None:
    """Fill the measured ratios under the same load: every run against chatlab's WebSocket
    run, every WebSocket run against the bare broadcast loop's, and each of chatlab's runs
    against Flask-SocketIO's over the same transport."""

    websocket = {r.load: r for r in rows if (r.server, r.transport) == CHATLAB_WEBSOCKET}
    bare = {r.load: r for r in rows if r.server == BARE_BROADCAST.name}
    peer = {(r.load, r.transport): r for r in rows if r.server == FLASK_SOCKETIO.name}
    for row in rows:
        if row.server == BARE_BROADCAST.name:
            continue
        other = peer.get((row.load, row.transport))
        if row.server == CHATLAB.name and other is not None and not row.new_connection_per_request:
            row.peer_run_id = other.run_id
            row.server_cpu_per_msg_vs_peer = ratio(
                row.server_cpu_per_msg_us, other.server_cpu_per_msg_us
            )
            row.wire_bytes_per_msg_vs_peer = ratio(row.wire_bytes_per_msg, other.wire_bytes_per_msg)
        if row.transport == Transport.WEBSOCKET and (loop := bare.get(row.load)) is not None:
            row.bare_run_id = loop.run_id
            row.server_cpu_per_msg_vs_bare = ratio(
                row.server_cpu_per_msg_us, loop.server_cpu_per_msg_us
            )
        baseline = websocket.get(row.load)
        if baseline is None or baseline is row:
            continue
        row.websocket_run_id = baseline.run_id
        row.wire_bytes_per_msg_vs_websocket = ratio(
            row.wire_bytes_per_msg, baseline.wire_bytes_per_msg
        )
        row.server_cpu_per_msg_vs_websocket = ratio(
            row.server_cpu_per_msg_us, baseline.server_cpu_per_msg_us
        )


def ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return value / baseline


def capacity_row(spec: RunSpec, facts: RunFacts, report: dict[str, Any] | None) -> CapacityRow:
    """A capacity run's row, from its `capacity.json` (loadtests/capacity_shape.py)."""
    row = CapacityRow(
        run_id=facts.run_id,
        server=spec.server,
        transport=spec.transport,
        workload=spec.workload,
        room_size=spec.room_size,
        send_interval_s=spec.effective_send_interval,
        header_profile=spec.header_profile,
        started_at=facts.started_at,
        ended_at=facts.ended_at,
        label=spec.label,
        server_pinned=facts.server_pinned,
        server_cpus=facts.server_cpus,
        generator_cpus=facts.generator_cpus,
        locust_exit_code=facts.locust_exit_code,
    )
    if report is not None:
        result = report["result"]
        row.plan, row.hold_s = list(report["plan"]), float(report["hold_s"])
        row.settle_s, row.p99_limit_ms = float(report["settle_s"]), float(report["p99_limit_ms"])
        row.users, row.at_least = int(result["users"]), bool(result["at_least"])
        row.stopped_by, row.reason = result["stopped_by"], result["reason"]
        row.sentence, row.steps = result["sentence"], list(result["steps"])
    reasons = []
    if report is None:
        reasons.append("the capacity run left no result (did Locust start?)")
    elif row.stopped_by == "plan" and len(row.steps) < len(row.plan):
        # the result is rewritten after every step: the run ended before its plan did
        reasons.append(f"the run ended after {len(row.steps)} of its {len(row.plan)} steps")
    if facts.cores >= 2 and not facts.server_pinned:
        reasons.append("the server was not pinned to its own core")
    row.invalid_reasons, row.valid = reasons, not reasons
    return row
