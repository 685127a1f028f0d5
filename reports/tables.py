"""The report's tables, their cells written once as text: the HTML page and the Markdown
summary only lay them out, and the notebook prints the Markdown one."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lab.results import CapacityRow, RunRow

from .capacity import capacity_lines, capacity_notes, comparison_sentences
from .network import Hickson, NetworkLatency, link_agreement, link_cost, linked_runs, network_label
from .overhead import KAAZING_CLIENTS, OverheadTable
from .peers import PeerComparison, load_words
from .rows import label


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    invalid: list[bool]  # per row: drawn from a run marked invalid (shown highlighted)
    caption: str = ""  # a sentence above the table; `backticks` are code
    notes: list[str] = field(default_factory=list)  # sentences below it


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


# The runs table: a column title and how to read it from a row.
RUN_COLUMNS: tuple[tuple[str, Callable[[RunRow], str]], ...] = (
    ("run", lambda r: r.run_id),
    ("server", lambda r: r.server),
    ("transport", lambda r: label(r.transport)),
    ("workload", lambda r: r.workload),
    ("users", lambda r: str(r.users)),
    ("headers", lambda r: r.header_profile),
    ("poll interval (s)", lambda r: f"{r.poll_interval_s:g}"),
    ("network", lambda r: network_label(r)),
    ("delivered", lambda r: f"{r.delivered:,}"),
    ("lost", lambda r: f"{r.lost:,}"),
    ("p50 (ms)", lambda r: _num(r.latency_p50_ms, 2)),
    ("p99 (ms)", lambda r: _num(r.latency_p99_ms, 2)),
    (
        "bytes / msg",
        lambda r: (
            _num(r.wire_bytes_per_msg, 0)
            + (" (client side)" if r.wire_counted_at == "client" else "")
        ),
    ),
    ("requests / s", lambda r: _num(r.requests_per_s, 1)),
    ("CPU / msg (µs)", lambda r: _num(r.server_cpu_per_msg_us, 1)),
    ("generator CPU", lambda r: f"{r.generator_cpu_percent:.0f}%"),
    ("valid", lambda r: "yes" if r.valid else "INVALID: " + "; ".join(r.invalid_reasons)),
)


def runs_table(rows: Sequence[RunRow]) -> Table:
    return Table(
        tuple(title for title, _ in RUN_COLUMNS),
        [tuple(read(row) for _, read in RUN_COLUMNS) for row in rows],
        [not row.valid for row in rows],
    )


def fmt_mbps(value: float, published: bool) -> str:
    """Published numbers as the article printed them; measured ones to three digits or so."""
    if published:
        return f"{value:g}"
    for limit, digits in ((100, 0), (10, 1), (1, 2)):
        if value >= limit:
            return f"{value:,.{digits}f}"
    return f"{value:.3f}"


def overhead_table(table: OverheadTable) -> Table:
    """The classic header-overhead table, the published lines beside the measured ones."""
    header = ("what", "source", "header profile", "overhead bytes")
    header += tuple(f"{n:,} clients (Mbps)" for n in KAAZING_CLIENTS)
    header += ("TCP/IP headers, bytes",)
    rows = []
    for line in table.lines:
        published = line.source == "published"
        polling = line.what == "polling"
        tcpip = "–" if line.tcpip_estimate is None else f"~{line.tcpip_estimate:,.0f} (estimate)"
        rows.append((
            "polling once a second" if polling else "WebSocket",
            line.source + ("" if line.valid else " (INVALID run)"),
            line.profile or "–",
            f"{line.bytes_each:,.1f} per {'poll' if polling else 'message'}",
            *(fmt_mbps(line.mbps[n], published) for n in KAAZING_CLIENTS),
            tcpip,
        ))  # fmt: skip
    workload = f" (measured rows: `{table.workload}` workload)" if table.workload else ""
    caption = (
        "Overhead bytes at N clients, each polling (or receiving one message) once a second; "
        f"Mbps as in the article (2^20 bits){workload}."
    )
    invalid = [not line.valid for line in table.lines]
    return Table(header, rows, invalid, caption, table.differences + table.missing)


def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}%"


def network_latency_table(latency: NetworkLatency) -> Table:
    """Each transport's latency over loopback and every round trip, theory beside it."""
    header = ("transport", "network", "way out p50 (ms)", "theory (ms)",
              "delivery p50 (ms)", "theory (ms)", "run")  # fmt: skip
    rows = [
        (label(line.row.transport), network_label(line.row),
         _num(line.row.from_server_p50_ms, 1), f"{line.way_out_theory_ms:,.1f}",
         _num(line.row.latency_p50_ms, 1), f"{line.delivery_theory_ms:,.1f}",
         line.row.run_id)
        for line in latency.lines
    ]  # fmt: skip
    caption = (
        "Latency against the round trip: the way out of the server (its acceptance of a message "
        "to the arrival) and the whole delivery (the sender's `ts` to the arrival), measured "
        "medians beside theory (an estimate: see below)."
    )
    invalid = [not line.row.valid for line in latency.lines]
    return Table(header, rows, invalid, caption, latency.notes)


def hickson_table(comparison: Hickson) -> Table:
    """Hickson's "150 ms → 50 ms", published beside measured and theory."""
    header = ("what", "published (ms)", "measured (ms)", "theory (ms)", "measured as", "run")
    rows = [
        (line.what, "–" if line.published_ms is None else f"{line.published_ms:g}",
         _num(line.measured_ms, 1), f"{line.theory_ms:,.0f}", line.source, line.run_id or "–")
        for line in comparison.lines
    ]  # fmt: skip
    caption = (
        "“Reducing latency from 150ms (TCP round trip to set up the connection plus a packet "
        "for the message) to 50ms (just the packet for the message)” (Ian Hickson; Kaazing's "
        "“HTML5 Web Sockets: A Quantum Leap in Scalability for the Web” quotes it without the "
        "parentheses)"
        + (f", measured over a {comparison.rtt_ms:g} ms round trip." if comparison.rtt_ms else ".")
    )
    invalid = [not line.valid for line in comparison.lines]
    return Table(header, rows, invalid, caption, comparison.sentences)


def link_table(rows: Sequence[RunRow], environment: dict) -> Table:
    """Per run through the link: its bytes beside the server's, and its CPU beside Locust's."""
    header = ("run", "network", "link bytes up / down", "server bytes in / out", "apart",
              "connections opened", "link CPU", "link µs / msg", "Locust CPU",
              "generator's cores in all")  # fmt: skip
    linked = linked_runs(rows)
    cells = [
        (row.run_id, network_label(row),
         _pair(row.link_bytes_up, row.link_bytes_down),
         (_pair(row.wire_bytes_in, row.wire_bytes_out) + _counted_at(row))
         if row.link_bytes_up is not None else "–",
         _pct(row.link_bytes_vs_server_percent, 2),
         "–" if row.link_connections is None else f"{row.link_connections:,}",
         _pct(row.link_cpu_percent, 1), _num(row.link_cpu_per_msg_us, 1),
         _pct(row.generator_cpu_percent, 0), _pct(row.generator_side_cpu_percent, 0))
        for row in linked
    ]  # fmt: skip
    caption = (
        "The link over each run's measurement window (read when the server's counters were): "
        "the bytes the server received and sent through it beside the server's own count, the "
        "connections it accepted, and its CPU, which runs on the generator's cores and counts "
        "as the generator's."
    )
    notes = [sentence for sentence in (link_agreement(rows),) if sentence]
    notes += link_cost(environment, rows)
    if not linked:
        notes.append("No runs over an emulated link: `chatlab bench --quick` runs some.")
    return Table(header, cells, [not row.valid for row in linked], caption, notes)


def _counted_at(row: RunRow) -> str:
    """Where a run's bytes were counted, for those not counted at the server's sockets."""
    return " (client side)" if row.wire_counted_at == "client" else ""


def _pair(a: int | None, b: int | None) -> str:
    return "–" if a is None or b is None else f"{a:,} / {b:,}"


def peer_table(comparison: PeerComparison) -> Table:
    """Each chatlab transport beside Flask-SocketIO's, under the same load."""
    header = ("what", "load", "p50 (ms)", "p99 (ms)", "bytes / msg", "CPU / msg (µs)",
              "chatlab ÷ Flask-SocketIO", "target", "runs")  # fmt: skip
    cells = []
    for line in comparison.lines:
        ours, theirs = line.chatlab, line.peer
        target = line.target
        cells.append((
            line.what, load_words(ours),
            f"{_num(ours.latency_p50_ms, 2)} vs {_num(theirs.latency_p50_ms, 2)}",
            f"{_num(ours.latency_p99_ms, 2)} vs {_num(theirs.latency_p99_ms, 2)}",
            f"{_num(ours.wire_bytes_per_msg, 0)} vs {_num(theirs.wire_bytes_per_msg, 0)} "
            "(client side)",
            f"{_num(ours.server_cpu_per_msg_us, 1)} vs {_num(theirs.server_cpu_per_msg_us, 1)}",
            f"{_num(ours.server_cpu_per_msg_vs_peer, 2)}× the CPU",
            "–" if target is None else f"≤ {target['limit']:g}×: {target['note']}",
            f"{ours.run_id}, {theirs.run_id}",
        ))  # fmt: skip
    caption = (
        "chatlab vs Flask-SocketIO (gevent, gevent-websocket, TCP_NODELAY, pinned like "
        "chatlab), the same chat scenario over the same transport: each cell chatlab's figure "
        "first. Server CPU per delivered message from each server's process; chatlab's bytes "
        "counted at its sockets, Flask-SocketIO's on the client side."
    )
    invalid = [not (line.chatlab.valid and line.peer.valid) for line in comparison.lines]
    return Table(header, cells, invalid, caption, comparison.sentences)


def capacity_table(capacity: Sequence[CapacityRow]) -> Table:
    """Each transport's verdict: the largest user count that still counted, and why not more."""
    header = ("transport", "verdict", "stopped at", "why", "server CPU at the last counted",
              "p99 at the last counted (ms)", "users per full core (estimate)",
              "at the stop: the server's CPU / its core busy in all", "run")  # fmt: skip
    lines = capacity_lines(capacity)
    cells = []
    for line in lines:
        last, failed = line.last_counted, line.failed
        cells.append((
            line.who, line.verdict,
            "–" if failed is None else f"{failed['users']:,} users",
            "every step counted" if failed is None else "; ".join(failed["reasons"]),
            _pct(None if last is None else last.get("server_cpu_percent")),
            _num(None if last is None else last.get("p99_ms"), 1),
            _num(line.per_core_estimate, 0),
            "–" if failed is None else f"{_pct(failed.get('server_cpu_percent'))} / "
            f"{_pct(failed.get('core_busy_percent'))}",
            line.row.run_id,
        ))  # fmt: skip
    caption = (
        "Where each transport hits the wall: the user count stepped up until a step stopped "
        "counting (p99 over the limit, anything lost, or the server's core full); the largest "
        "that still counted, or “at least” where the load generator (or the plan) ran out "
        "before the server did."
    )
    notes = comparison_sentences(capacity) + capacity_notes(capacity)
    return Table(header, cells, [not line.row.valid for line in lines], caption, notes)
