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
from lab.results import TCPIP_HEADER_BYTES_ESTIMATE, RunRow
from lab.servers import BARE_BROADCAST, CHATLAB

from .plan import RunSpec

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
        backend=spec.backend,
        workers=spec.workers,
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
    )
    if facts.server_before:
        row.server_rss_before_bytes = int(facts.server_before["process"]["rss_bytes"])
    row.locust_failures = sum(int(s.get("num_failures", 0)) for s in locust_stats or [])
    if scenario is not None:
        _fill_from_scenario(row, spec, scenario, samples)
    row.invalid_reasons = invalid_reasons(row, scenario, facts.cores)
    row.valid = not row.invalid_reasons
    return row


def _fill_from_scenario(
    row: RunRow, spec: RunSpec, scenario: dict[str, Any], samples: Sequence[float]
) -> None:
    counts = scenario.get("transports", {}).get(spec.transport, {})
    for name in ("sent", "expected", "delivered", "lost", "duplicated", "out_of_order", "gaps",
                 "resumed", "unexpected", "reconnects", "send_failures", "abandoned"):  # fmt: skip
        setattr(row, name, int(counts.get(name, 0)))
    row.window_delivered = int(counts.get("window_delivered", 0))
    row.payload_bytes_per_msg = per(counts.get("payload_bytes"), counts.get("delivered"))

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
        return counter_delta(start, end, spec.transport, key)

    bytes_in, bytes_out = delta("bytes_in"), delta("bytes_out")
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
        row.server_cpu_s = server_cpu_seconds(end) - server_cpu_seconds(start)
        cpu_per_msg = per(row.server_cpu_s, delivered)
        row.server_cpu_per_msg_us = cpu_per_msg * 1e6 if cpu_per_msg is not None else None
        if end.get("redis") and start.get("redis"):
            row.redis_cpu_s = end["redis"]["cpu_seconds"] - start["redis"]["cpu_seconds"]
            redis_per_msg = per(row.redis_cpu_s, delivered)
            row.redis_cpu_per_msg_us = None if redis_per_msg is None else redis_per_msg * 1e6
        row.server_rss_bytes = int(end["process"]["rss_bytes"])
        row.open_connections = int(end.get("transports", {}).get(spec.transport, {}).get("open", 0))
        if spec.transport in CONNECTION_TRANSPORTS and row.server_rss_before_bytes:
            grown = row.server_rss_bytes - row.server_rss_before_bytes
            row.rss_per_connection_bytes = per(grown, row.open_connections)


def server_cpu_seconds(metrics: dict[str, Any]) -> float:
    """The CPU time of every process serving the chat: the one that answered, or, with the
    chat in Redis, each live process (`processes`)."""
    processes = metrics.get("processes")
    if processes:
        return sum(float(p["cpu_seconds"]) for p in processes)
    return float(metrics["process"]["cpu_seconds"])


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
    run, and every WebSocket run against the bare broadcast loop's."""

    # a run is compared with the WebSocket run of its own backend and worker count
    websocket = {(r.load, r.backend, r.workers): r for r in rows
                 if (r.server, r.transport) == CHATLAB_WEBSOCKET}  # fmt: skip
    bare = {r.load: r for r in rows if r.server == BARE_BROADCAST.name}
    for row in rows:
        if row.server == BARE_BROADCAST.name:
            continue
        if row.transport == Transport.WEBSOCKET and (loop := bare.get(row.load)) is not None:
            row.bare_run_id = loop.run_id
            row.server_cpu_per_msg_vs_bare = ratio(
                row.server_cpu_per_msg_us, loop.server_cpu_per_msg_us
            )
        baseline = websocket.get((row.load, row.backend, row.workers))
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
