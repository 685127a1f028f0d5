"""Each plot function draws from rows onto an axes, and says on it what is missing."""

from dataclasses import replace

import pytest
from conftest import synthetic_chat_rows, synthetic_row
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports import plots


@pytest.fixture
def ax() -> Axes:
    figure = Figure()
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def texts(ax: Axes) -> str:
    found = [t.get_text() for t in ax.texts]
    found += [label.get_text() for label in ax.get_xticklabels()]
    legend = ax.get_legend()
    if legend is not None:
        found += [t.get_text() for t in legend.get_texts()]
    return "\n".join(found).replace("\u00a0", " ")  # commands are wrapped as one word


ALL = [
    lambda ax, rows: plots.latency_cdf(ax, rows, {}),
    plots.latency_vs_users,
    plots.wire_bytes_per_message,
    plots.requests_and_empty_polls,
    plots.cpu_per_message,
    plots.memory_per_connection,
    plots.poll_interval_tradeoff,
    plots.latency_vs_rtt,
    lambda ax, rows: plots.burst_over_link(ax, rows, {}),
]


@pytest.mark.parametrize("draw", ALL)
def test_every_plot_says_on_its_axes_which_command_measures_it(ax: Axes, draw) -> None:
    notes = draw(ax, [])
    assert any("chatlab bench" in note for note in notes)
    assert "chatlab bench" in texts(ax)
    ax.figure.canvas.draw()


def test_the_cdf_draws_every_transport_and_the_theory(ax: Axes) -> None:
    rows = synthetic_chat_rows()
    samples = {r.run_id: [r.latency_p50_ms] * 5 for r in rows if r.users == 40}
    notes = plots.latency_cdf(ax, rows, samples)
    legend = texts(ax)
    for name in ("short polling", "long polling", "Server-Sent Events", "WebSocket"):
        assert name in legend
    assert "theory: short polling, even over one 1 s interval" in legend
    assert "up to 3 transits" in legend
    assert "40 users" in ax.get_title()
    assert notes == [
        "Theory uses one transit ≈ 1.00 ms, estimated from this sweep's WebSocket median, "
        "not predicted."
    ]


def test_the_cdf_falls_back_to_percentiles_without_samples(ax: Axes) -> None:
    notes = plots.latency_cdf(ax, synthetic_chat_rows(), {})
    assert sum("no raw samples" in note for note in notes) == 4
    assert "WebSocket: percentiles" in texts(ax)


def test_invalid_runs_are_marked(ax: Axes) -> None:
    rows = [
        replace(r, valid=False) if r.transport == "short_poll" else r for r in synthetic_chat_rows()
    ]
    plots.wire_bytes_per_message(ax, rows)
    assert "short polling\nminimal\n(invalid)" in texts(ax)


def test_invalid_runs_are_marked_in_the_cdf_legend(ax: Axes) -> None:
    rows = [replace(r, valid=False) if r.transport == "sse" else r for r in synthetic_chat_rows()]
    plots.latency_cdf(ax, rows, {})
    assert "Server-Sent Events (invalid)" in texts(ax)


def test_the_latency_theory_follows_the_poll_interval(ax: Axes) -> None:
    plots.latency_vs_users(ax, synthetic_chat_rows())
    theory = next(line for line in ax.get_lines() if "theory" in line.get_label())
    # p50 of short polling at 1 s: 500 ms + one transit (the WebSocket median, 1 ms)
    assert list(theory.get_ydata()) == pytest.approx([501.0, 501.0])


def test_the_poll_interval_plot_draws_each_interval(ax: Axes) -> None:
    rows = synthetic_chat_rows()
    for interval, size in ((0.25, 2400.0), (2.0, 500.0)):
        rows.append(synthetic_row("short_poll", 40, poll_interval_s=interval,
                                  wire_bytes_per_msg=size, latency_mean_ms=interval * 500 + 1,
                                  run_id=f"synthetic-poll-{interval}"))  # fmt: skip
    notes = plots.poll_interval_tradeoff(ax, rows)
    labels = texts(ax)
    for interval in ("0.25 s", "1 s", "2 s"):
        assert interval in labels
    assert not any("Only one poll interval" in note for note in notes)
    # the everyday plots keep to the standard 1 s interval
    ax.clear()
    plots.latency_vs_users(ax, rows)
    short = [line for line in ax.get_lines() if line.get_label() == "short polling"]
    assert list(short[0].get_ydata()) == [501.0, 501.0]


def test_the_baseline_is_drawn_beside_the_transports(ax: Axes) -> None:
    rows = synthetic_chat_rows() + [
        synthetic_row("websocket", 40, server="bare_broadcast", server_cpu_per_msg_us=9.0)
    ]
    notes = plots.cpu_per_message(ax, rows)
    assert "bare gevent broadcast (baseline), rooms of 10" in texts(ax)
    assert "×5.6" in texts(ax)  # 50 µs against the loop's 9 µs, same load
    assert not any("No bare-broadcast" in note for note in notes)


def test_memory_prefers_idle_runs_and_leaves_short_polling_out(ax: Axes) -> None:
    rows = synthetic_chat_rows() + [
        synthetic_row(t, 200, workload="idle", rss_per_connection_bytes=8192.0)
        for t in ("short_poll", "websocket")
    ]
    notes = plots.memory_per_connection(ax, rows)
    assert "idle workload" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["200 users"]
    assert "Short polling holds no connection" in " ".join(notes)
    assert "short polling" not in texts(ax)


def runs_that_left_no_results() -> list:
    """What a sweep writes when Locust never reported: rows of zeros, all invalid."""
    reasons = ["the scenario left no results (did Locust start?)"]
    return [
        synthetic_row(t, u, valid=False, invalid_reasons=reasons)
        for u in (50, 200)
        for t in ("short_poll", "long_poll", "sse", "websocket")
    ]


@pytest.mark.parametrize("draw", ALL)
def test_runs_without_numbers_draw_a_sentence_not_a_crash(ax: Axes, draw) -> None:
    notes = draw(ax, runs_that_left_no_results())
    ax.figure.canvas.draw()
    assert notes
    assert ax.texts, "the axes should say what is missing"


def test_the_cdf_adds_long_polling_under_bursts_when_the_sweep_has_them(ax: Axes) -> None:
    rows = synthetic_chat_rows() + [
        synthetic_row(
            "long_poll", 10, workload="burst", burst_size=20, latency_p50_ms=2.5, latency_p99_ms=3.1
        )  # fmt: skip
    ]
    plots.latency_cdf(ax, rows, {})
    assert "long polling, bursts of 20: percentiles" in texts(ax)
