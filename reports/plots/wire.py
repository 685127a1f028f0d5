"""What crossed the wire: bytes per delivered message, and requests per second."""

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.patches import Patch

from lab.results import RunRow

from ..overhead import PROFILES
from ..rows import chatlab_rows, common_level, comparable, label, pick, user_levels, where
from .style import Notes, color, headroom, say_missing, say_no_runs, transports_in

_WORKLOADS = ("ticker", "chat")  # the header argument's own case first


def _workload(rows: Sequence[RunRow], workload: str | None) -> str | None:
    if workload is not None:
        return workload
    return next((w for w in _WORKLOADS if chatlab_rows(rows, workload=w)), None)


def _split(row: RunRow) -> dict[str, tuple[float, float]] | None:
    """direction → (payload, overhead) bytes per delivered message.

    Server → client payload is the delivered message's JSON, measured. Client → server
    payload is an estimate: each sent message counted at its delivered JSON size, spread
    over the messages it was delivered as (sent / delivered), an upper bound.
    """
    if row.wire_bytes_out_per_msg is None or row.wire_bytes_in_per_msg is None:
        return None
    payload = row.payload_bytes_per_msg or 0.0
    sent_share = row.sent / row.delivered if row.delivered else 0.0
    payload_in = min(payload * sent_share, row.wire_bytes_in_per_msg)
    payload_out = min(payload, row.wire_bytes_out_per_msg)
    return {
        "out": (payload_out, row.wire_bytes_out_per_msg - payload_out),
        "in": (payload_in, row.wire_bytes_in_per_msg - payload_in),
    }


def wire_bytes_per_message(ax: Axes, rows: Sequence[RunRow], workload: str | None = None) -> Notes:
    """Bytes per delivered message, per direction, split into payload and overhead."""
    notes: Notes = []
    workload = _workload(rows, workload)
    ax.set_ylabel("wire bytes per delivered message")
    if workload is None:
        ax.set_title("Wire bytes per delivered message")
        say_missing(ax, notes, "No ticker or chat runs: run `chatlab bench --quick`.")
        return notes
    chosen = chatlab_rows(rows, workload=workload)
    users = common_level(chosen) or user_levels(chosen)[-1]
    ax.set_title(f"Wire bytes per delivered message, {workload} workload, {users} users")
    if workload != "ticker":
        notes.append(
            "No `ticker` runs (one small message a second, the header argument's case): "
            "drawn from the chat workload. Run `chatlab bench --quick` for them."
        )
    groups: list[tuple[str, str, RunRow]] = []
    for profile in [p for p in PROFILES if where(chosen, header_profile=p)]:
        same = comparable(where(chosen, header_profile=profile), workload)
        for transport in transports_in(same):
            row = pick(where(same, transport=transport, users=users))
            if row is not None:
                groups.append((transport, profile, row))
    ticks, tick_labels = [], []
    for x, (transport, profile, row) in enumerate(groups):
        split = _split(row)
        if split is None:
            notes.append(f"{label(transport)} ({profile}): no byte counts in {row.run_id}.")
            continue
        for dx, direction in ((-0.2, "out"), (0.2, "in")):
            payload, overhead = split[direction]
            alpha = 1.0 if row.valid else 0.4
            ax.bar(
                x + dx,
                payload,
                0.38,
                color=color(transport),
                alpha=alpha,
                hatch="" if direction == "out" else "..",
            )
            ax.bar(
                x + dx,
                overhead,
                0.38,
                bottom=payload,
                facecolor="white",
                edgecolor=color(transport),
                hatch="///",
                alpha=alpha,
            )
            arrow = "→client" if direction == "out" else "→server"
            ax.annotate(
                f"{arrow}\n{payload + overhead:,.0f}",
                (x + dx, payload + overhead),
                textcoords="offset points",
                xytext=(0, 2),
                ha="center",
                fontsize=6,
            )
        ticks.append(x)
        invalid = "" if row.valid else "\n(invalid)"
        tick_labels.append(f"{label(transport)}\n{profile}{invalid}")
    if not ticks:
        say_missing(ax, notes, f"No byte counts in the `{workload}` runs.")
        return notes
    ax.set_xticks(ticks, tick_labels, fontsize=7)
    headroom(ax)
    ax.legend(
        handles=[
            Patch(facecolor="#999999", label="payload: the message's JSON (server → client)"),
            Patch(facecolor="#999999", hatch="..", label="payload, client → server (estimate)"),
            Patch(
                facecolor="white",
                edgecolor="#999999",
                hatch="///",
                label="overhead: headers, framing, envelopes, empty polls",
            ),
        ],
        fontsize=7,
        loc="upper right",
    )
    notes.append(
        "Client → server payload is an estimate (each sent message at its delivered JSON size, "
        "over the deliveries it made); the server → client split and all totals are measured."
    )
    return notes


def requests_and_empty_polls(ax: Axes, rows: Sequence[RunRow], workload: str = "chat") -> Notes:
    """HTTP requests answered per second (sends included; for SSE and WebSocket, connections
    opened), with the share of poll answers that carried no message hatched."""
    notes: Notes = []
    chosen = comparable(rows, workload)
    ax.set_ylabel("requests answered per second")
    ax.set_title(f"Requests per second and empty polls, {workload} workload")
    if not chosen:
        say_no_runs(ax, notes, workload)
        return notes
    transports = transports_in(chosen)
    width = 0.8 / max(len(transports), 1)
    levels = user_levels(chosen)
    for g, users in enumerate(levels):
        for i, transport in enumerate(transports):
            row = pick(where(chosen, transport=transport, users=users))
            if row is None:
                continue
            x = g + (i - (len(transports) - 1) / 2) * width
            share = row.empty_poll_share or 0.0
            full = row.requests_per_s * (1 - share)
            alpha = 1.0 if row.valid else 0.4
            ax.bar(
                x,
                full,
                width * 0.9,
                color=color(transport),
                alpha=alpha,
                label=label(transport) if g == 0 else None,
            )
            ax.bar(
                x,
                row.requests_per_s - full,
                width * 0.9,
                bottom=full,
                facecolor="white",
                edgecolor=color(transport),
                hatch="///",
                alpha=alpha,
            )
            text = f"{row.requests_per_s:,.1f}/s"
            if row.empty_poll_share is not None and row.empty_poll_share > 0:
                text += f"\n{row.empty_poll_share:.0%} empty"
            if not row.valid:
                text += "\ninvalid"
            ax.annotate(
                text,
                (x, row.requests_per_s),
                textcoords="offset points",
                xytext=(0, 2),
                ha="center",
                fontsize=6,
            )
    ax.set_xticks(range(len(levels)), [f"{u} users" for u in levels])
    headroom(ax, 0.25)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="#999999",
            hatch="///",
            label="answers that carried no message",
        )
    )
    ax.legend(handles=handles, fontsize=7, loc="upper left")
    notes.append(
        "Requests include the sends (an HTTP POST each, for every transport but WebSocket); "
        "for SSE and WebSocket the rest are connections opened inside the measurement window, "
        "often none: they were opened before it."
    )
    return notes
