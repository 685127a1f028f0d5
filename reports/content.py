"""Everything the report says, computed once; the HTML page and the Markdown summary are two
renderings of it and add no numbers of their own."""

from dataclasses import dataclass, field
from typing import Any

from lab.results import RunRow

from .backplane import backplane_cost
from .claims import Claim, all_claims, baseline_comparison
from .overhead import header_table
from .sweep import Sweep
from .tables import Table, overhead_table, runs_table


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
    overhead: Table  # the classic header-overhead table
    runs: Table
    plots: list[RenderedPlot]
    backplane: list[str] = field(default_factory=list)  # the Redis backplane's cost, if run

    @property
    def invalid_runs(self) -> list[RunRow]:
        return [row for row in self.sweep.rows if not row.valid]


def compute(sweep: Sweep, plots: list[RenderedPlot]) -> ReportContent:
    return ReportContent(
        title=f"chatlab report: {sweep.folder.name}",
        sweep=sweep,
        claims=all_claims(sweep.rows),
        baseline=baseline_comparison(sweep.rows),
        overhead=overhead_table(header_table(sweep.rows)),
        runs=runs_table(sweep.rows),
        plots=plots,
        backplane=backplane_cost(sweep.rows),
    )


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
