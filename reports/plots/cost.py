"""What the server paid: CPU per delivered message, memory per open connection."""

from collections.abc import Sequence

from matplotlib.axes import Axes

from chat_core import Transport
from lab.results import RunRow
from lab.servers import run_label

from ..rows import (
    BASELINE,
    baseline_rows,
    chatlab_rows,
    comparable,
    label,
    pick,
    same_load,
    user_levels,
    where,
)
from .style import Notes, color, headroom, marker_face, say_missing, say_no_runs, transports_in


def cpu_per_message(ax: Axes, rows: Sequence[RunRow], workload: str = "chat") -> Notes:
    """Server CPU per delivered message against users, the bare broadcast loop beside it."""
    notes: Notes = []
    chosen = comparable(rows, workload)
    baseline = baseline_rows(rows)
    ax.set_xlabel("users")
    ax.set_ylabel("server CPU per delivered message (µs)")
    ax.set_title(f"Server CPU per delivered message, {workload} workload")
    if not chosen and not baseline:
        say_no_runs(ax, notes, workload)
        return notes
    drawn = False
    for transport in transports_in(chosen):
        source = where(chosen, transport=transport)
        runs = [pick(where(source, users=u)) for u in user_levels(source)]
        runs = [r for r in runs if r is not None and r.server_cpu_per_msg_us is not None]
        if not runs:
            continue
        drawn = True
        ax.plot(
            [r.users for r in runs],
            [r.server_cpu_per_msg_us for r in runs],
            color=color(transport),
            label=label(transport),
        )
        for r in runs:
            ax.plot(
                r.users,
                r.server_cpu_per_msg_us,
                "o",
                color=color(transport),
                markerfacecolor=marker_face(r, transport),
            )
    for base in baseline:
        drawn = True
        _baseline_pair(ax, base, rows, notes)
    if not drawn:
        say_missing(ax, notes, "No run measured server CPU per message.")
        return notes
    if not baseline:
        notes.append(
            "No bare-broadcast baseline: run `chatlab bench --quick` to draw a bare "
            "gevent WebSocket broadcast loop under the same load."
        )
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    if any(not r.valid and r.server_cpu_per_msg_us is not None for r in chosen + baseline):
        notes.append("Hollow markers are runs marked invalid.")
    return notes


def _baseline_pair(ax: Axes, base: RunRow, rows: Sequence[RunRow], notes: Notes) -> None:
    """The bare loop beside the WebSocket run under its own load (it may differ from the
    lines' load, e.g. one room of 100): the two are compared with each other only."""
    load = f"rooms of {base.room_size}"
    ax.plot(
        base.users,
        base.server_cpu_per_msg_us,
        "s",
        color=color(BASELINE),
        markersize=8,
        markerfacecolor=marker_face(base, BASELINE),
        label=f"{run_label(base.server, base.transport)}, {load}",
    )
    ws = pick(chatlab_rows(same_load(rows, base), transport=Transport.WEBSOCKET))
    if ws is None or not ws.server_cpu_per_msg_us or not base.server_cpu_per_msg_us:
        notes.append(f"No WebSocket run under the baseline's load ({load}) to compare it with.")
        return
    ax.plot(
        ws.users,
        ws.server_cpu_per_msg_us,
        "D",
        color=color(Transport.WEBSOCKET),
        markersize=7,
        markerfacecolor=marker_face(ws, Transport.WEBSOCKET),
        label=f"WebSocket under the baseline's load, {load}",
    )
    ratio = ws.server_cpu_per_msg_us / base.server_cpu_per_msg_us
    ax.annotate(
        f"×{ratio:.1f}",
        (ws.users, ws.server_cpu_per_msg_us),
        textcoords="offset points",
        xytext=(8, 0),
        va="center",
        fontsize=8,
    )
    notes.append(
        f"The square is the bare gevent broadcast loop, the diamond chatlab's WebSocket under "
        f"the same load ({load}, {base.users} users): {ratio:.1f}× its CPU per message."
    )


def memory_per_connection(ax: Axes, rows: Sequence[RunRow]) -> Notes:
    """Resident memory the server added per open connection, from idle runs where they exist."""
    notes: Notes = []
    idle = chatlab_rows(rows, workload="idle")
    source = idle or [r for r in chatlab_rows(rows) if r.workload != "idle"]
    # short polling holds no connection between polls: memory "per open connection" would
    # divide by the few requests that happened to be in flight
    measured = [
        r
        for r in source
        if r.rss_per_connection_bytes is not None and r.transport != Transport.SHORT_POLL
    ]
    ax.set_ylabel("server memory per open connection (KiB)")
    ax.set_title("Memory per open connection" + (", idle workload" if idle else ""))
    if not idle:
        notes.append(
            "Drawn from the runs with traffic: the resident memory the server grew by, over the "
            "connections open at the end. Runs of the `idle` workload hold connections with "
            "nothing sent and isolate it: `chatlab bench --workload idle --users 1000`."
            if measured
            else "No `idle` runs: `chatlab bench --workload idle --users 1000` measures memory "
            "per connection."
        )
    if not measured:
        say_missing(
            ax,
            notes,
            "No run measured memory per open connection: run "
            "`chatlab bench --workload idle --users 1000` for the idle rows.",
        )
        return notes
    workload = idle[0].workload if idle else measured[0].workload
    measured = comparable(measured, workload) or measured
    transports = transports_in(measured)
    levels = user_levels(measured)
    width = 0.8 / max(len(transports), 1)
    for g, users in enumerate(levels):
        for i, transport in enumerate(transports):
            row = pick(where(measured, transport=transport, users=users))
            if row is None or row.rss_per_connection_bytes is None:
                continue
            x = g + (i - (len(transports) - 1) / 2) * width
            kib = row.rss_per_connection_bytes / 1024
            ax.bar(
                x,
                kib,
                width * 0.9,
                color=color(transport),
                alpha=1.0 if row.valid else 0.4,
                label=label(transport) if g == 0 else None,
            )
            text = f"{kib:,.1f}" + ("" if row.valid else "\ninvalid")
            ax.annotate(
                text, (x, kib), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=6
            )
    ax.set_xticks(range(len(levels)), [f"{u} users" for u in levels])
    headroom(ax)
    ax.legend(fontsize=7)
    notes.append("Short polling holds no connection open between polls: no bar.")
    return notes
