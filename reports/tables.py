"""The report's tables, their cells written once as text: the HTML page and the Markdown
summary only lay them out, and the notebook prints the Markdown one."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lab.results import RunRow

from .overhead import KAAZING_CLIENTS, OverheadTable
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
    ("delivered", lambda r: f"{r.delivered:,}"),
    ("lost", lambda r: f"{r.lost:,}"),
    ("p50 (ms)", lambda r: _num(r.latency_p50_ms, 2)),
    ("p99 (ms)", lambda r: _num(r.latency_p99_ms, 2)),
    ("bytes / msg", lambda r: _num(r.wire_bytes_per_msg, 0)),
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
