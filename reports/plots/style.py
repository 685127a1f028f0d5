"""What every plot shares: one colour per transport, how invalid runs look, and how a
plot says that its data is missing (on the axes itself, so a PNG never lies by omission)."""

import re
import textwrap
from collections.abc import Iterable

from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from lab.results import RunRow

from ..rows import BASELINE, TRANSPORTS

COLORS = {
    "short_poll": "#d62728",
    "long_poll": "#ff7f0e",
    "sse": "#2ca02c",
    "websocket": "#1f77b4",
    BASELINE: "#444444",
}
THEORY = {"color": "#7f7f7f", "linestyle": ":", "linewidth": 1.5}
INVALID_HATCH = "xx"

Notes = list[str]  # what a plot could not draw, or where it estimates: shown under it


def color(transport: str) -> str:
    return COLORS.get(transport, "#9467bd")


def transports_in(rows: Iterable[RunRow]) -> list[str]:
    """The transports these rows measured, in the lesson's order (short polling first)."""
    measured = {row.transport for row in rows}
    return [t for t in TRANSPORTS if t in measured]


def marker_face(row: RunRow, transport: str) -> str:
    """Invalid runs are drawn hollow."""
    return color(transport) if row.valid else "white"


def _wrap(text: str, width: int) -> str:
    """Wrap, never inside a `command` (its spaces become no-break spaces)."""
    kept = re.sub(r"`[^`]+`", lambda m: m.group().replace(" ", "\u00a0"), text)
    return textwrap.fill(kept, width)


def say_missing(ax: Axes, notes: Notes, message: str) -> None:
    """Write on the axes that its data is missing, and keep the sentence for the caption."""
    notes.append(message)
    if not (ax.lines or ax.patches or ax.collections):
        # a log axis with nothing on it cannot be drawn at all
        ax.set_xscale("linear")
        ax.set_yscale("linear")
        ax.set_xticks([])
        ax.set_yticks([])
    ax.text(
        0.5,
        0.5,
        _wrap(message, 60),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        color="#555555",
        bbox={"boxstyle": "round", "facecolor": "#f7f7f7", "edgecolor": "#cccccc"},
    )


def say_no_runs(ax: Axes, notes: Notes, workload: str) -> None:
    """The sweep has no runs of `workload`: say so, and which command makes them."""
    say_missing(ax, notes, f"No `{workload}` runs: run `chatlab bench --quick`.")


def headroom(ax: Axes, share: float = 0.2) -> None:
    """Room above the tallest bar for its label. (Margins alone do not do it: a zero-height
    bar stacked on top makes its base a sticky edge.)"""
    top = max((p.get_y() + p.get_height() for p in ax.patches), default=0.0)
    if top > 0:
        ax.set_ylim(0, top * (1 + share))


def nothing_measured(rows: list[RunRow], what: str) -> str:
    """A sentence for runs that exist but carry no `what`, with the reasons they were given."""
    reasons = sorted({reason for row in rows for reason in row.invalid_reasons})
    why = f" The runs were marked invalid: {'; '.join(reasons)}." if reasons else ""
    return f"No {what} in these {len(rows)} runs.{why}"


def plain_log_ticks(ax: Axes) -> None:
    """Label log axes 200, 500, 1000 rather than 2×10²: students read ms and bytes."""
    plain = FuncFormatter(lambda value, _pos: f"{value:g}")
    for axis, scale, limits in (
        (ax.xaxis, ax.get_xscale(), ax.get_xlim()),
        (ax.yaxis, ax.get_yscale(), ax.get_ylim()),
    ):
        if scale != "log":
            continue
        axis.set_major_formatter(plain)
        narrow = limits[0] > 0 and limits[1] / limits[0] < 30  # few decades: label minor ticks
        axis.set_minor_formatter(plain if narrow else NullFormatter())
