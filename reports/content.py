"""Everything the report says, computed once; the HTML page and the Markdown summary are two
renderings of it and add no numbers of their own."""

from dataclasses import dataclass, field
from typing import Any

from lab.results import RunRow
from lab.target_lines import target_lines

from .claims import Claim, all_claims, baseline_comparison
from .network import hickson, network_latency
from .overhead import header_table
from .peers import peer_comparison
from .sweep import Sweep
from .tables import (
    Table,
    capacity_table,
    hickson_table,
    link_table,
    network_latency_table,
    overhead_table,
    peer_table,
    runs_table,
)

PEERS_HEADING = "chatlab beside Flask-SocketIO: the transport's cost and the implementation's"
CAPACITY_HEADING = "Capacity: where each transport hits the wall"
TARGETS_HEADING = "Targets, as this sweep measured them"
# A quick sweep's report says, in one line, what it leaves to the default preset.
DEFAULT_PRESET_ADDS = (
    "This is the quick preset's sweep. The default preset (`chatlab bench`, about 15 minutes) "
    "adds 300 and 1,000 users, Flask-SocketIO beside chatlab at both, idle connections "
    "(memory per connection), bursts on loopback, the room of 100 (chatlab's WebSocket, the "
    "bare loop and Flask-SocketIO's), round trips of 50 and 200 ms, and the capacity runs: "
    "where each transport, chatlab's and Flask-SocketIO's, hits the wall."
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
    peers: Table  # each chatlab transport beside its Flask-SocketIO counterpart
    capacity: Table | None  # where each transport hits the wall; None: no capacity runs
    scope: list[str]  # what this sweep leaves out (a quick sweep's line), if anything
    targets: list[str]  # the sweep's targets.json in words, one line per check

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
        claims=all_claims(sweep.rows, sweep.capacity),
        baseline=baseline_comparison(sweep.rows),
        overhead=overhead_table(header_table(sweep.rows)),
        runs=runs_table(sweep.rows),
        plots=plots,
        network_latency=network_latency_table(network_latency(sweep.rows)),
        hickson=hickson_table(hickson(sweep.rows)),
        link=link_table(sweep.rows, sweep.environment),
        peers=peer_table(peer_comparison(sweep.rows, sweep.targets)),
        capacity=capacity_table(sweep.capacity) if sweep.capacity else None,
        scope=[DEFAULT_PRESET_ADDS] if sweep.environment.get("preset") == "quick" else [],
        targets=measured_targets(sweep.targets),
    )


def measured_targets(targets: list[dict[str, Any]]) -> list[str]:
    """Each target the sweep measured, with its checks (those not in it left out)."""
    return [f"{head}: {'; '.join(checks)}" for head, checks in target_lines(targets) if checks]


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
