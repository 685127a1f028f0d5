"""Everything the report says, computed once; the HTML page and the Markdown summary are two
renderings of it and add no numbers of their own."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.results import RunRow

from .claims import Claim, all_claims, baseline_comparison
from .overhead import OverheadTable, header_table
from .rows import label
from .sweep import Sweep


@dataclass(frozen=True)
class RenderedPlot:
    name: str
    title: str
    png: bytes
    notes: list[str] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return f"{self.name}.png"


@dataclass(frozen=True)
class ReportContent:
    title: str
    sweep: Sweep
    claims: list[Claim]
    baseline: list[str]
    table: OverheadTable
    plots: list[RenderedPlot]

    @property
    def invalid_runs(self) -> list[RunRow]:
        return [row for row in self.sweep.rows if not row.valid]


def compute(sweep: Sweep, plots: list[RenderedPlot]) -> ReportContent:
    return ReportContent(
        title=f"chatlab report: {sweep.folder.name}",
        sweep=sweep,
        claims=all_claims(sweep.rows),
        baseline=baseline_comparison(sweep.rows),
        table=header_table(sweep.rows),
        plots=plots,
    )


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


def fmt_mbps(value: float, published: bool) -> str:
    """Published numbers as the article printed them; measured ones to three digits or so."""
    if published:
        return f"{value:g}"
    for limit, digits in ((100, 0), (10, 1), (1, 2)):
        if value >= limit:
            return f"{value:,.{digits}f}"
    return f"{value:.3f}"


TABLE_CLIENTS_HEADER = ("1,000 clients", "10,000 clients", "100,000 clients")


def environment_items(environment: dict[str, Any]) -> list[tuple[str, str]]:
    """Top-level environment entries as text, nested values summarised as key=value."""
    items = []
    for key, value in environment.items():
        if isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        items.append((str(key), text))
    return items
