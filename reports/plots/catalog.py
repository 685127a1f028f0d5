"""The report's plots in order: a file name, a title, and how to draw it from a sweep."""

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.axes import Axes

from ..sweep import Sweep
from .cost import cpu_per_message, memory_per_connection
from .latency import latency_cdf, latency_vs_users, poll_interval_tradeoff
from .style import Notes
from .wire import requests_and_empty_polls, wire_bytes_per_message


@dataclass(frozen=True)
class PlotSpec:
    name: str  # file stem of the PNG
    title: str
    draw: Callable[[Axes, Sweep], Notes]
    size: tuple[float, float] = (8.0, 5.0)


WIDE = (10.5, 5.0)  # plots with their legend beside the axes

PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec(
        "latency_cdf",
        "Delivery latency distribution per transport",
        lambda ax, s: latency_cdf(ax, s.rows, s.samples),
        WIDE,
    ),
    PlotSpec(
        "latency_vs_users",
        "p50 and p99 latency against users",
        lambda ax, s: latency_vs_users(ax, s.rows),
        WIDE,
    ),
    PlotSpec(
        "wire_bytes",
        "Wire bytes per delivered message: payload and overhead, per direction",
        lambda ax, s: wire_bytes_per_message(ax, s.rows),
        (10.0, 5.5),
    ),
    PlotSpec(
        "requests",
        "Requests per second and empty-poll share",
        lambda ax, s: requests_and_empty_polls(ax, s.rows),
    ),
    PlotSpec(
        "cpu_per_message",
        "Server CPU per delivered message against users",
        lambda ax, s: cpu_per_message(ax, s.rows),
        WIDE,
    ),
    PlotSpec(
        "memory_per_connection",
        "Server memory per open connection",
        lambda ax, s: memory_per_connection(ax, s.rows),
    ),
    PlotSpec(
        "poll_interval",
        "Short polling's poll-interval trade-off",
        lambda ax, s: poll_interval_tradeoff(ax, s.rows),
    ),
)
