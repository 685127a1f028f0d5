"""Everything the report says, computed once; the HTML page and the Markdown summary are two
renderings of it and add no numbers of their own."""

from dataclasses import dataclass, field
from typing import Any

from lab.results import RunRow

from .claims import Claim, all_claims, baseline_comparison
from .network import hickson, network_latency
from .overhead import header_table
from .sweep import Sweep
from .tables import (
    Table,
    hickson_table,
    link_table,
    network_latency_table,
    overhead_table,
    runs_table,
)


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
    network_latency: Table  # latency against the round trip, theory beside it
    hickson: Table  # "150 ms → 50 ms", measured
    link: Table  # the link's bytes beside the server's, its CPU and its own cost

    @property
    def invalid_runs(self) -> list[RunRow]:
        return [row for row in self.sweep.rows if not row.valid]

    @property
    def network_tables(self) -> list[tuple[str, Table]]:
        """The section on the network, its tables in order, each under its heading."""
        return [
            ("Latency against the round trip", self.network_latency),
            ("“150 ms → 50 ms”: a new connection against a push", self.hickson),
            ("The emulated link: its bytes beside the server's, and its own cost", self.link),
        ]


def compute(sweep: Sweep, plots: list[RenderedPlot]) -> ReportContent:
    return ReportContent(
        title=f"chatlab report: {sweep.folder.name}",
        sweep=sweep,
        claims=all_claims(sweep.rows),
        baseline=baseline_comparison(sweep.rows),
        overhead=overhead_table(header_table(sweep.rows)),
        runs=runs_table(sweep.rows),
        plots=plots,
        network_latency=network_latency_table(network_latency(sweep.rows)),
        hickson=hickson_table(hickson(sweep.rows)),
        link=link_table(sweep.rows, sweep.environment),
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
