"""Latency over an emulated network (the runs made through `chatlab link`), theory beside it:
every transport against the round trip, and long polling's transits under bursts."""

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from chat_core import Transport
from lab.results import RunRow

from .. import theory
from ..network import NO_NETWORK_RUNS, network_label, network_latency
from ..rows import label, networked_rows, pick, where
from .style import THEORY, Notes, color, marker_face, say_missing, transports_in

_PERCENTILES = (("from_server_p50_ms", 0.5), ("from_server_p99_ms", 0.99),
                ("from_server_max_ms", 1.0))  # fmt: skip


def latency_vs_rtt(ax: Axes, rows: Sequence[RunRow], workload: str = "chat") -> Notes:
    """Median delivery latency against the round trip, per transport, theory dotted: on
    linear axes, so that each transit's RTT / 2 shows as a slope."""
    notes: Notes = []
    ax.set(xlabel="round trip of the link (ms; 0: loopback, no link)",
           ylabel="median delivery latency (ms)",
           title=f"Delivery latency against the round trip, {workload} workload")  # fmt: skip
    latency = network_latency(rows, workload)
    if not latency.lines:
        say_missing(ax, notes, NO_NETWORK_RUNS)
        return notes
    bases = latency.bases
    assert bases is not None
    measured = [line.row for line in latency.lines if line.row.latency_p50_ms is not None]
    top = max([row.rtt_ms for row in measured] + [1.0])
    xs = np.array([0.0, top * 1.05])
    for transport in transports_in(measured):
        runs = [r for r in measured if r.transport == transport]
        kept = sorted((r for r in runs if not r.new_connection_per_request), key=lambda r: r.rtt_ms)
        if kept:
            ax.plot([r.rtt_ms for r in kept], [r.latency_p50_ms for r in kept], "-",
                    color=color(transport), linewidth=1, label=label(transport))  # fmt: skip
        for run in runs:
            fresh = run.new_connection_per_request
            name = f"{label(transport)}, a new connection per poll" if fresh else None
            ax.plot(run.rtt_ms, run.latency_p50_ms, "s" if fresh else "o", color=color(transport),
                    markerfacecolor=marker_face(run, transport), markersize=9 if fresh else 6,
                    alpha=0.6 if fresh else 1.0, label=name)  # fmt: skip
    polls = {r.poll_interval_s for r in measured if r.transport == Transport.SHORT_POLL}
    base = bases.delivery_ms
    for interval in sorted(polls):
        predicted = [theory.delivery_ms(Transport.SHORT_POLL, x, interval, base) for x in xs]
        name = f"theory: half of the {interval:g} s interval + a transit each way"
        ax.plot(xs, predicted, **{**THEORY, "color": color(Transport.SHORT_POLL)}, label=name)
    pushed = [theory.delivery_ms(Transport.WEBSOCKET, x, base_ms=base) for x in xs]
    ax.plot(xs, pushed, **THEORY, label="theory: a transit each way (push, a parked long poll)")
    notes += latency.notes
    notes.append(
        "Dotted: theory, RTT / 2 for the sender's transit to the server and RTT / 2 for the way "
        "out, on top of the loopback part (an estimate); short polling adds half its interval. "
        "Hollow markers: runs marked invalid; pale squares: a new connection per poll."
    )
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    return notes


def burst_over_link(ax: Axes, rows: Sequence[RunRow], samples: Mapping[str, Sequence[float]]
                    ) -> Notes:  # fmt: skip
    """The way out of the server under bursts over a link: long polling's one to three
    transits (and a round trip more with a new connection per poll), theory as lines."""
    notes: Notes = []
    ax.set(xlabel="way out of the server: acceptance to arrival (ms)",
           ylabel="share of deliveries at or below")  # fmt: skip
    bursts = networked_rows(rows, workload="burst")
    if not bursts:
        ax.set_title("Bursts over a link")
        missing = ("No burst runs over an emulated link: `chatlab bench --quick` (or `make "
                   "compare`) runs long polling under bursts over 100 ms.")  # fmt: skip
        say_missing(ax, notes, missing)
        return notes
    rtt = pick(r for r in bursts if r.transport == Transport.LONG_POLL) or bursts[0]
    chosen = where(bursts, rtt_ms=rtt.rtt_ms)
    ax.set_title(f"Bursts of {rtt.burst_size} over a {rtt.rtt_ms:g} ms round trip: the way out")
    top = 0.0
    for row in sorted(chosen, key=lambda r: (r.transport, r.new_connection_per_request)):
        name = f"{label(row.transport)}, {network_label(row)}" + ("" if row.valid else " (invalid)")
        style = {"color": color(row.transport),
                 "linestyle": "--" if row.new_connection_per_request else "-"}  # fmt: skip
        values = samples.get(row.run_id)
        if values:
            ax.ecdf(np.asarray(values, dtype=float), label=name, **style)
            top = max(top, float(max(values)))
            continue
        points = [(getattr(row, f), q) for f, q in _PERCENTILES if getattr(row, f) is not None]
        if not points:
            notes.append(f"{name}: no way-out latency in {row.run_id}.")
            continue
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", label=f"{name}: percentiles", **style)
        top = max(top, max(xs))
        notes.append(f"{name}: no raw samples in {row.run_id}/, drawn from its percentiles.")
    if not top:
        say_missing(ax, notes, "The burst runs over a link measured no way-out latency.")
        return notes
    transit = theory.one_way_ms(rtt.rtt_ms)
    _, three = theory.long_poll_burst_out_ms(rtt.rtt_ms)
    _, fresh = theory.long_poll_burst_out_ms(rtt.rtt_ms, new_connection=True)
    ax.axvline(
        transit,
        **{**THEORY, "color": color(Transport.WEBSOCKET)},
        label=f"theory: one transit, RTT / 2 = {transit:g} ms (a parked poll)",
    )
    ax.axvline(
        three,
        **{**THEORY, "color": color(Transport.LONG_POLL)},
        label=f"theory: three transits, {three:g} ms (answer, new request, message)",
    )
    if any(r.new_connection_per_request for r in chosen):
        ax.axvline(fresh, **{**THEORY, "color": "#8c564b"},
                   label=f"theory: three transits and a handshake, {fresh:g} ms")  # fmt: skip
    ax.set_xlim(0, max(top, fresh) * 1.08)
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    notes.append(
        "The way out is the message's `at` (the server's acceptance) to its arrival, so the "
        "sender's own transit is left out; the server's time to fan a burst out to every "
        "member comes on top of the theory's transits."
    )
    return notes
