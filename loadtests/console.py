"""What the sweep prints: a line per run as it goes, then the comparison table, the measured
ratios (the argument the lab exists for), the targets, and every invalid run, loudly."""

from collections.abc import Callable
from typing import Any, TextIO

from chat_core import Transport
from lab.results import CapacityRow, RunRow
from lab.servers import CHATLAB, run_label
from lab.target_lines import target_lines

TRANSPORT_ORDER = tuple(Transport)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def run_outcome(row: RunRow) -> str:
    """One line after a run."""
    numbers = [
        f"p50 {_num(row.latency_p50_ms, 2)} / p99 {_num(row.latency_p99_ms, 2)} ms",
        f"{_num(row.deliveries_per_s, 0)} deliveries/s",
        f"{_num(row.wire_bytes_per_msg, 0)} B/msg",
        f"{_num(row.server_cpu_per_msg_us, 1)} µs CPU/msg",
        f"generator {_num(row.generator_cpu_percent, 0)}%",
    ]
    if row.link:
        numbers.append(f"link {_num(row.link_cpu_percent, 0)}%, way out p50 "
                       f"{_num(row.from_server_p50_ms, 1)} ms")  # fmt: skip
    if row.rss_per_connection_bytes is not None and row.workload == "idle":
        numbers.append(f"{_num(row.rss_per_connection_bytes / 1024, 1)} KiB/connection")
    verdict = "ok" if row.valid else "INVALID: " + "; ".join(row.invalid_reasons)
    return "        " + ", ".join(numbers) + f"  [{verdict}]"


def capacity_outcome(row: CapacityRow) -> str:
    """One line after a capacity run."""
    verdict = "ok" if row.valid else "INVALID: " + "; ".join(row.invalid_reasons)
    return f"        {row.sentence or 'no step was measured'}  [{verdict}]"


def capacity_lines(capacity: list[CapacityRow]) -> list[str]:
    """Each capacity run's result, chatlab's and Flask-SocketIO's side by side."""
    ordered = sorted(capacity, key=lambda r: (TRANSPORT_ORDER.index(Transport(r.transport)),
                                              r.server != CHATLAB.name))  # fmt: skip
    return [f"{run_label(r.server, r.transport)}: {r.sentence or 'not measured'}"
            + ("" if r.valid else " (INVALID: " + "; ".join(r.invalid_reasons) + ")")
            for r in ordered]  # fmt: skip


def _kib(row: RunRow) -> str:
    per = row.rss_per_connection_bytes
    return _num(None if per is None else per / 1024, 1)


def _share(row: RunRow) -> str:
    return "-" if row.empty_poll_share is None else f"{row.empty_poll_share:.0%}"


COLUMNS: tuple[tuple[str, int, Callable[[RunRow], str]], ...] = (
    ("p50 ms", 8, lambda r: _num(r.latency_p50_ms, 2)),
    ("p99 ms", 8, lambda r: _num(r.latency_p99_ms, 2)),
    ("max ms", 8, lambda r: _num(r.latency_max_ms, 1)),
    ("deliv/s", 8, lambda r: _num(r.deliveries_per_s, 0)),
    ("lost", 5, lambda r: str(r.lost)),
    ("B/msg in", 9, lambda r: _num(r.wire_bytes_in_per_msg, 0)),
    ("B/msg out", 9, lambda r: _num(r.wire_bytes_out_per_msg, 0)),
    ("req/s", 7, lambda r: _num(r.requests_per_s, 0)),
    ("empty", 6, _share),
    ("µs CPU/msg", 10, lambda r: _num(r.server_cpu_per_msg_us, 1)),
    ("KiB/conn", 8, _kib),
    ("gen %", 6, lambda r: _num(r.generator_cpu_percent, 0)),
    ("B ×ws", 6, lambda r: _num(r.wire_bytes_per_msg_vs_websocket, 1)),
    ("CPU ×ws", 7, lambda r: _num(r.server_cpu_per_msg_vs_websocket, 1)),
    ("CPU ×bare", 9, lambda r: _num(r.server_cpu_per_msg_vs_bare, 1)),
    ("CPU ×peer", 9, lambda r: _num(r.server_cpu_per_msg_vs_peer, 2)),
    ("valid", 5, lambda r: "yes" if r.valid else "NO"),
)


def table(rows: list[RunRow]) -> str:
    width = max([len(r.run_id) for r in rows] + [3])
    head = f"{'run':<{width}} " + " ".join(f"{name:>{w}}" for name, w, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = " ".join(f"{cell(row):>{w}}" for _, w, cell in COLUMNS)
        lines.append(f"{row.run_id:<{width}} {cells}")
    return "\n".join(lines)


def ratios(rows: list[RunRow]) -> list[str]:
    """The measured argument: each transport's bytes and CPU per delivered message as a
    multiple of WebSocket's under the same load, and chatlab against the bare loop."""
    by_id = {row.run_id: row for row in rows}
    groups: dict[str, list[RunRow]] = {}
    for row in rows:
        if row.websocket_run_id:
            groups.setdefault(row.websocket_run_id, []).append(row)
    lines = []
    for websocket_id, others in groups.items():
        base = by_id[websocket_id]
        parts = []
        for row in sorted(others, key=_in_order):
            if row.wire_bytes_per_msg_vs_websocket is None:
                continue  # nothing delivered (idle): no per-message number to compare
            name = run_label(row.server, row.transport)
            if row.transport == "short_poll":
                name += f" every {row.poll_interval_s:g} s"
            if row.new_connection_per_request:
                name += ", a new connection per poll"
            parts.append(f"{name} {_num(row.wire_bytes_per_msg_vs_websocket, 1)}× the bytes, "
                         f"{_num(row.server_cpu_per_msg_vs_websocket, 1)}× the CPU")  # fmt: skip
        if parts:
            lines.append(f"{_load(base)} — per delivered message, against WebSocket: "
                         + "; ".join(parts))  # fmt: skip
    for row in rows:
        if row.bare_run_id:
            bare = by_id[row.bare_run_id].server_cpu_per_msg_us
            who = (
                "chatlab's WebSocket server"
                if row.server == CHATLAB.name
                else run_label(row.server, row.transport)
            )
            lines.append(
                f"{_load(row)} — {who} spends "
                f"{_num(row.server_cpu_per_msg_vs_bare, 1)}× the CPU per delivered message of "
                f"the bare broadcast loop ({_num(row.server_cpu_per_msg_us)} against "
                f"{_num(bare)} µs)"
            )
    for row in rows:
        if row.peer_run_id:
            peer = by_id[row.peer_run_id]
            lines.append(
                f"{_load(row)} — chatlab's {run_label(row.server, row.transport)} spends "
                f"{_num(row.server_cpu_per_msg_vs_peer, 2)}× the CPU per delivered message of "
                f"{run_label(peer.server, peer.transport)} ({_num(row.server_cpu_per_msg_us)} "
                f"against {_num(peer.server_cpu_per_msg_us)} µs)"
            )
    return lines


def _in_order(row: RunRow) -> tuple:
    """chatlab's runs first, in the lesson's order of transports, then the other servers'."""
    return (row.server != CHATLAB.name, row.server, TRANSPORT_ORDER.index(Transport(row.transport)),
            row.poll_interval_s)  # fmt: skip


def _load(row: RunRow) -> str:
    text = f"{row.workload}, {row.users} users, rooms of {row.room_size}"
    if row.header_profile != "minimal":
        text += f", {row.header_profile} headers"
    if row.rtt_ms:
        text += f", over a {row.rtt_ms:g} ms round trip"
    return text


def targets(results: list[dict[str, Any]]) -> list[str]:
    return [line for head, checks in target_lines(results)
            for line in (f"- {head}", *(f"    {check}" for check in checks))]  # fmt: skip


def final_report(rows: list[RunRow], target_results: list[dict[str, Any]], out: TextIO,
                 capacity: list[CapacityRow] | None = None) -> None:  # fmt: skip
    sections = ["", table(rows)] if rows else []
    measured = ratios(rows)
    if measured:
        sections += ["", "Measured ratios:", *measured]
    if capacity:
        sections += ["", "Capacity (the largest user count that still counted):",
                     *capacity_lines(capacity)]  # fmt: skip
    sections += ["", "Targets:", *targets(target_results)]
    invalid: list[RunRow | CapacityRow] = [row for row in rows if not row.valid]
    invalid += [row for row in capacity or [] if not row.valid]
    if invalid:
        total = len(rows) + len(capacity or [])
        sections += ["", f"!!! {len(invalid)} of {total} runs are INVALID:"]
        sections += [f"!!! {row.run_id}: {'; '.join(row.invalid_reasons)}" for row in invalid]
    print("\n".join(sections), file=out, flush=True)
