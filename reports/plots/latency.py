"""Latency plots, with theory drawn beside each measurement (docs/MEASURING.md).

One transit is estimated from the same sweep's WebSocket median; every plot that uses the
estimate says so in its notes and on the axes.
"""

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from chat_core import Transport
from lab.results import RunRow

from .. import theory
from ..rows import chatlab_rows, common_level, comparable, label, pick, user_levels, where
from .style import (
    THEORY,
    Notes,
    color,
    marker_face,
    nothing_measured,
    plain_log_ticks,
    say_missing,
    say_no_runs,
    transports_in,
)

_LOWEST_MS = 0.01  # a log axis cannot show 0 ms; faster samples are drawn at this value
_PERCENTILES = (("latency_p50_ms", 0.5), ("latency_p95_ms", 0.95), ("latency_p99_ms", 0.99))


def _transit_note(transit: float) -> str:
    return (
        f"Theory uses one transit ≈ {transit:.2f} ms, estimated from this sweep's WebSocket "
        "median, not predicted."
    )


def latency_cdf(
    ax: Axes,
    rows: Sequence[RunRow],
    samples: Mapping[str, Sequence[float]],
    workload: str = "chat",
) -> Notes:
    """Distribution of delivery latency per transport, at the highest common user count."""
    notes: Notes = []
    chosen = comparable(rows, workload)
    users = common_level(chosen) or (user_levels(chosen) or [None])[-1]
    at_level = where(chosen, users=users)
    ax.set(xscale="log", xlabel="delivery latency (ms, log scale)",
           ylabel="share of deliveries at or below",
           title=f"Latency distribution, {workload} workload, {users} users")  # fmt: skip
    if not at_level:
        say_no_runs(ax, notes, workload)
        return notes
    drawn = 0
    for transport in transports_in(at_level):
        row = pick(where(at_level, transport=transport))
        assert row is not None
        name = label(transport) + ("" if row.valid else " (invalid)")
        style = {"color": color(transport), "linestyle": "-" if row.valid else "--"}
        drawn += _distribution(ax, row, samples, name, style, notes)
    # long polling's "up to three transits" shows when messages come back to back
    burst = pick(chatlab_rows(rows, workload="burst", transport=Transport.LONG_POLL))
    if drawn and burst is not None and workload != "burst":
        name = f"long polling, bursts of {getattr(burst, 'burst_size', 0) or 'several'}"
        style = {"color": color(Transport.LONG_POLL), "linestyle": "-."}
        _distribution(
            ax, burst, samples, name + ("" if burst.valid else " (invalid)"), style, notes
        )
    if not drawn:
        say_missing(ax, notes, nothing_measured(at_level, "delivery latency"))
        return notes
    _theory_on_cdf(ax, at_level, users, notes)
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    plain_log_ticks(ax)
    return notes


def _distribution(
    ax: Axes,
    row: RunRow,
    samples: Mapping[str, Sequence[float]],
    name: str,
    style: dict,
    notes: Notes,
) -> bool:
    """One run's latency CDF from its raw samples, else from its percentiles; False if none."""
    values = samples.get(row.run_id)
    if values:
        ax.ecdf(np.maximum(np.asarray(values, dtype=float), _LOWEST_MS), label=name, **style)
        return True
    points = [(getattr(row, f), q) for f, q in _PERCENTILES if getattr(row, f) is not None]
    if row.latency_max_ms is not None:
        points.append((row.latency_max_ms, 1.0))
    if not points:
        notes.append(f"{name}: no latency measured in run {row.run_id}.")
        return False
    xs, ys = zip(*points, strict=True)
    ax.plot(np.maximum(xs, _LOWEST_MS), ys, marker="o", label=f"{name}: percentiles", **style)
    notes.append(
        f"{name}: no raw samples in {row.run_id}/, drawn from the run's p50/p95/p99/max only."
    )
    return True


def _theory_on_cdf(ax: Axes, rows: Sequence[RunRow], users: int | None, notes: Notes) -> None:
    transit = theory.transit_ms(rows, users)
    if transit is None or transit <= 0:
        notes.append("No WebSocket or SSE median to estimate one transit: theory not drawn.")
        return
    notes.append(_transit_note(transit))
    poll = pick(where(rows, transport=Transport.SHORT_POLL))
    if poll is not None:
        span = poll.poll_interval_s * 1000
        xs = np.linspace(transit, transit + span, 200)
        ax.plot(
            xs,
            (xs - transit) / span,
            **{**THEORY, "color": color(Transport.SHORT_POLL)},
            label=f"theory: short polling, even over one {poll.poll_interval_s:g} s interval",
        )
    low, high = theory.long_poll_range_ms(transit)
    ax.axvline(
        transit,
        **{**THEORY, "color": color(Transport.WEBSOCKET)},
        label="theory: one transit (WebSocket, SSE, parked long poll)",
    )
    ax.axvline(
        high,
        **{**THEORY, "color": color(Transport.LONG_POLL)},
        label=f"theory: long polling under bursts, up to {high / low:.0f} transits",
    )


def latency_vs_users(ax: Axes, rows: Sequence[RunRow], workload: str = "chat") -> Notes:
    """p50 (solid) and p99 (dashed) delivery latency against users, theory in grey."""
    notes: Notes = []
    chosen = comparable(rows, workload)
    ax.set(yscale="log", xlabel="users", ylabel="delivery latency (ms, log scale)",
           title=f"p50 and p99 latency against users, {workload} workload")  # fmt: skip
    if not chosen:
        say_no_runs(ax, notes, workload)
        return notes
    for transport in transports_in(chosen):
        runs = [pick(where(chosen, transport=transport, users=u)) for u in user_levels(chosen)]
        runs = [r for r in runs if r is not None]
        for field, style in (("latency_p50_ms", "-"), ("latency_p99_ms", "--")):
            points = [(r.users, getattr(r, field), r) for r in runs if getattr(r, field)]
            if not points:
                continue
            ax.plot(
                [p[0] for p in points],
                [p[1] for p in points],
                linestyle=style,
                color=color(transport),
                label=label(transport) if style == "-" else None,
            )
            for users, value, run in points:
                ax.plot(
                    users,
                    value,
                    "o",
                    color=color(transport),
                    markerfacecolor=marker_face(run, transport),
                )
        if any(not r.valid and r.latency_p50_ms for r in runs):
            notes.append(f"{label(transport)}: hollow markers are runs marked invalid.")
    if not ax.lines:
        say_missing(ax, notes, nothing_measured(chosen, "delivery latency"))
        return notes
    _theory_against_users(ax, chosen, notes)
    handles, _ = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="black", linestyle="-", label="p50"),
        Line2D([], [], color="black", linestyle="--", label="p99"),
        Line2D(
            [],
            [],
            marker="o",
            color="black",
            markerfacecolor="white",
            linestyle="",
            label="invalid run",
        ),
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(True, which="both", alpha=0.3)
    plain_log_ticks(ax)
    return notes


def _theory_against_users(ax: Axes, rows: Sequence[RunRow], notes: Notes) -> None:
    levels = user_levels(rows)
    transits = {u: theory.transit_ms(rows, u) for u in levels}
    known = [u for u in levels if transits[u]]
    if not known:
        notes.append("No WebSocket or SSE median to estimate one transit: theory not drawn.")
        return
    poll = pick(where(rows, transport=Transport.SHORT_POLL))
    if poll is not None:
        interval = poll.poll_interval_s
        for q, style in ((0.5, "-"), (0.99, "--")):
            ys = [theory.short_poll_quantile_ms(interval, transits[u], q) for u in known]
            ax.plot(
                known,
                ys,
                color="#7f7f7f",
                linestyle=style,
                linewidth=3,
                alpha=0.35,
                label="theory: short polling, interval × q + one transit" if q == 0.5 else None,
            )
    lows = [theory.long_poll_range_ms(transits[u])[0] for u in known]
    highs = [theory.long_poll_range_ms(transits[u])[1] for u in known]
    ax.fill_between(
        known,
        lows,
        highs,
        color=color(Transport.LONG_POLL),
        alpha=0.12,
        label="theory: long polling, 1 to 3 transits",
    )
    notes.append(
        "Theory uses one transit ≈ this sweep's WebSocket median at each user count (an "
        "estimate, not a prediction)."
    )


def poll_interval_tradeoff(ax: Axes, rows: Sequence[RunRow]) -> Notes:
    """Short polling's latency against its bytes per message as the poll interval changes."""
    notes: Notes = []
    polls = chatlab_rows(rows, transport=Transport.SHORT_POLL)
    ax.set_xlabel("wire bytes per delivered message (both directions)")
    ax.set_ylabel("mean delivery latency (ms)")
    ax.set_title("Short polling: the poll interval trades latency for bytes")
    if not polls:
        say_missing(
            ax,
            notes,
            "No short-polling runs: run `chatlab bench --quick` for the poll-interval sweep.",
        )
        return notes
    # the workload, profile and user count with the most distinct intervals
    groups: dict[tuple[str, str, int], list[RunRow]] = {}
    for row in polls:
        groups.setdefault((row.workload, row.header_profile, row.users), []).append(row)
    (workload, profile, users), group = max(
        groups.items(), key=lambda kv: (len({r.poll_interval_s for r in kv[1]}), kv[0][2])
    )
    intervals = sorted({r.poll_interval_s for r in group})
    runs = [pick(where(group, poll_interval_s=i)) for i in intervals]
    runs = [r for r in runs if r is not None and r.wire_bytes_per_msg is not None]
    ax.set_title(
        f"Short polling: poll interval against latency and bytes ({workload}, {users} users)"
    )
    if not runs:
        say_missing(ax, notes, nothing_measured(group, "bytes per delivered message"))
        return notes
    if len(intervals) < 2:
        say_missing(
            ax,
            notes,
            f"Only one poll interval ({intervals[0]:g} s) was run: run "
            "`chatlab bench --quick` for the poll-interval sweep.",
        )
    transit = theory.transit_ms(where(rows, workload=workload, header_profile=profile), users)
    xs = [r.wire_bytes_per_msg for r in runs]
    ys = [r.latency_mean_ms if r.latency_mean_ms is not None else r.latency_p50_ms for r in runs]
    ax.plot(
        xs, ys, "-o", color=color(Transport.SHORT_POLL), label="short polling, measured", zorder=3
    )
    for run, x, y in zip(runs, xs, ys, strict=True):
        ax.plot(
            x,
            y,
            "o",
            color=color(Transport.SHORT_POLL),
            markerfacecolor=marker_face(run, Transport.SHORT_POLL),
            zorder=4,
        )
        ax.annotate(
            f"{run.poll_interval_s:g} s" + ("" if run.valid else " (invalid)"),
            (x, y),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize=8,
        )
    if transit is not None:
        predicted = [theory.short_poll_mean_ms(r.poll_interval_s, transit) for r in runs]
        ax.plot(
            xs,
            predicted,
            marker="s",
            markersize=11,
            markerfacecolor="none",
            zorder=2,
            **THEORY,
            label="theory: interval / 2 + one transit",
        )
        notes.append(_transit_note(transit))
    ws = pick(chatlab_rows(rows, transport=Transport.WEBSOCKET, workload=workload, users=users))
    if ws is not None and ws.wire_bytes_per_msg is not None and ws.latency_mean_ms is not None:
        ax.plot(
            ws.wire_bytes_per_msg,
            ws.latency_mean_ms,
            "*",
            markersize=14,
            color=color(Transport.WEBSOCKET),
            label="WebSocket, same workload",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    plain_log_ticks(ax)
    return notes
