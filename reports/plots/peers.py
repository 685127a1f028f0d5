"""chatlab beside Flask-SocketIO: server CPU per delivered message over each transport both
speak, under each load the sweep measured both at; and users per core from the capacity runs."""

from collections.abc import Sequence

from matplotlib.axes import Axes

from lab.results import CapacityRow, RunRow
from lab.servers import CHATLAB

from ..capacity import capacity_lines
from ..peers import load_words, peer_comparison
from ..rows import label
from .style import Notes, color, headroom, say_missing

PEER_HATCH = "//"  # Flask-SocketIO's bars: the transport's colour, hatched
ESTIMATE = "#333333"


def peer_cpu(ax: Axes, rows: Sequence[RunRow]) -> Notes:
    """Pairs of bars, chatlab's and Flask-SocketIO's, per transport and load."""
    notes: Notes = []
    lines = peer_comparison(rows).lines
    ax.set_ylabel("server CPU per delivered message (µs)")
    ax.set_title("Server CPU per delivered message, chatlab vs Flask-SocketIO")
    if not lines:
        say_missing(ax, notes, "No chatlab run with a Flask-SocketIO run under the same load.")
        return notes
    ticks = []
    for x, line in enumerate(lines):
        for offset, row, hatch in ((-0.2, line.chatlab, None), (0.2, line.peer, PEER_HATCH)):
            value = row.server_cpu_per_msg_us or 0.0
            ax.bar(x + offset, value, 0.38, color=color(line.transport), hatch=hatch,
                   edgecolor="white" if hatch else None, alpha=1.0 if row.valid else 0.4,
                   label=None)  # fmt: skip
            ax.annotate(f"{value:,.0f}", (x + offset, value), textcoords="offset points",
                        xytext=(0, 2), ha="center", fontsize=7)  # fmt: skip
        ratio = line.chatlab.server_cpu_per_msg_vs_peer
        ticks.append(f"{label(line.transport)}\n{load_words(line.chatlab)}"
                     + ("" if ratio is None else f"\nchatlab ×{ratio:.2f}"))  # fmt: skip
    ax.set_xticks(range(len(lines)), ticks, fontsize=7)
    ax.bar(0, 0, color="#999999", label="chatlab")
    ax.bar(0, 0, color="#999999", hatch=PEER_HATCH, edgecolor="white", label="Flask-SocketIO")
    headroom(ax)
    ax.legend(fontsize=7)
    notes.append(
        "Solid: chatlab; hatched: Flask-SocketIO, the same scenario over the same transport. "
        "Each server's CPU from its own process, over the same measurement window."
    )
    if any(not (line.chatlab.valid and line.peer.valid) for line in lines):
        notes.append("Faded bars are runs marked invalid.")
    return notes


def users_per_core(ax: Axes, capacity: Sequence[CapacityRow]) -> Notes:
    """The users each transport held on one server core, chatlab's and Flask-SocketIO's."""
    notes: Notes = []
    lines = capacity_lines(capacity)
    ax.set_ylabel("users held on one server core")
    ax.set_title("Capacity: users per server core, chat workload")
    if not lines:
        say_missing(ax, notes, "No capacity runs in this sweep.")
        return notes
    estimated: list[float] = []
    for x, line in enumerate(lines):
        peer = line.row.server != CHATLAB.name
        transport = line.row.transport
        ax.bar(x, line.row.users, 0.7, color=color(transport), hatch=PEER_HATCH if peer else None,
               edgecolor="white" if peer else None,
               alpha=1.0 if line.row.valid else 0.4)  # fmt: skip
        mark = "≥ " if line.row.at_least else ""
        ax.annotate(f"{mark}{line.row.users:,}", (x, line.row.users), textcoords="offset points",
                    xytext=(0, 2), ha="center", fontsize=7)  # fmt: skip
        estimate = line.per_core_estimate
        if estimate is not None and line.row.at_least:
            estimated.append(estimate)
            ax.plot(
                x,
                estimate,
                "o",
                color=ESTIMATE,
                markerfacecolor="white",
                label="users per full core (estimate)" if len(estimated) == 1 else None,
            )
            ax.annotate(f"~{estimate:,.0f}", (x, estimate), textcoords="offset points",
                        xytext=(6, 0), va="center", fontsize=7, color=ESTIMATE)  # fmt: skip
    ax.set_xticks(range(len(lines)), [line.who.replace(", ", "\n") for line in lines],
                  fontsize=7)  # fmt: skip
    top = max([line.row.users for line in lines] + estimated)
    ax.set_ylim(0, max(top, 1) * 1.15)
    notes.append(
        "Hatched: Flask-SocketIO. “≥” marks a transport whose run ended before its server "
        "did (the load generator or the plan ran out, or other processes took the server's "
        "core): it holds at least that many."
    )
    if estimated:
        ax.legend(fontsize=7)
        notes.append(
            "Hollow circles stretch the last step that counted to a full server core in "
            "proportion to its CPU: an estimate."
        )
    return notes
