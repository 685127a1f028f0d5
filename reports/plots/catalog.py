"""The report's plots in order: a file name, a title, and how to draw it from a sweep."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes

from lab.results import RunRow

from ..sweep import Sweep
from .cost import cpu_per_message, memory_per_connection
from .latency import latency_cdf, latency_vs_users, poll_interval_tradeoff
from .network import burst_over_link, latency_vs_rtt
from .peers import peer_cpu, users_per_core
from .style import Notes
from .wire import requests_and_empty_polls, wire_bytes_per_message


@dataclass(frozen=True)
class PlotSpec:
    name: str  # file stem of the PNG
    title: str
    draw: Callable[[Axes, Sweep], Notes]
    size: tuple[float, float] = (8.0, 5.0)
    shown: Callable[[Sweep], bool] = lambda sweep: True  # drawn for this sweep?


WIDE = (10.5, 5.0)  # plots with their legend beside the axes


def _from_rows(draw: Callable[[Axes, Sequence[RunRow]], Notes]) -> Callable[[Axes, Sweep], Notes]:
    """A plot drawn from the sweep's rows alone."""
    return lambda ax, sweep: draw(ax, sweep.rows)


PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("latency_cdf", "Delivery latency distribution per transport",
             lambda ax, sweep: latency_cdf(ax, sweep.rows, sweep.samples), WIDE),
    PlotSpec("latency_vs_users", "p50 and p99 latency against users",
             _from_rows(latency_vs_users), WIDE),
    PlotSpec("wire_bytes", "Wire bytes per delivered message: payload and overhead, per direction",
             _from_rows(wire_bytes_per_message), (10.0, 5.5)),
    PlotSpec("requests", "Requests per second and empty-poll share",
             _from_rows(requests_and_empty_polls)),
    PlotSpec("cpu_per_message", "Server CPU per delivered message against users",
             _from_rows(cpu_per_message), WIDE),
    PlotSpec("memory_per_connection", "Server memory per open connection",
             _from_rows(memory_per_connection)),
    PlotSpec("poll_interval", "Short polling's poll-interval trade-off",
             _from_rows(poll_interval_tradeoff)),
    PlotSpec("latency_vs_rtt", "Delivery latency against the network's round trip",
             _from_rows(latency_vs_rtt), WIDE),
    PlotSpec("burst_over_link", "Long polling under bursts over a network: one to three transits",
             lambda ax, sweep: burst_over_link(ax, sweep.rows, sweep.from_server), WIDE),
    PlotSpec("peer_cpu", "Server CPU per delivered message: chatlab vs Flask-SocketIO",
             _from_rows(peer_cpu), WIDE),
    # only where the sweep made capacity runs (a quick sweep's report says what it leaves out)
    PlotSpec("users_per_core", "Capacity: users per server core, per transport",
             lambda ax, sweep: users_per_core(ax, sweep.capacity), WIDE,
             shown=lambda sweep: bool(sweep.capacity)),
)  # fmt: skip
