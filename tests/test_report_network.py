"""The argument over a network in the report: latency against the round trip beside theory,
"150 ms → 50 ms" measured, the link's own numbers, the latency claims, and their plots."""

from dataclasses import replace

import pytest
from conftest import synthetic_chat_rows, synthetic_network_rows, write_synthetic_sweep
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports import plots, theory
from reports.claims import (
    CONTRADICTED,
    NOT_MEASURED,
    SUPPORTED,
    fresh_connection_costs_a_handshake,
    long_polling_transits,
    push_one_transit,
    short_polling_waits,
)
from reports.network import hickson, link_agreement, link_cost, network_latency
from reports.rows import chatlab_rows
from reports.tables import hickson_table, link_table, network_latency_table


def rows() -> list:
    return synthetic_chat_rows() + synthetic_network_rows()


def change(found: list, run_id: str, **fields: object) -> list:
    return [replace(r, **fields) if r.run_id == run_id else r for r in found]


@pytest.fixture
def ax() -> Axes:
    figure = Figure()
    FigureCanvasAgg(figure)
    return figure.add_subplot()


# -- theory --------------------------------------------------------------------------------


def test_theory_adds_half_a_round_trip_per_transit():
    assert theory.way_out_ms("websocket", 100) == 50
    assert theory.way_out_ms("short_poll", 100, poll_interval_s=1.0, base_ms=2) == 552
    assert theory.delivery_ms("sse", 100, base_ms=1) == 101
    assert theory.long_poll_burst_out_ms(100) == (50, 150)
    assert theory.long_poll_burst_out_ms(100, new_connection=True) == (50, 250)
    assert theory.poll_round_trip_ms(100) == 100
    assert theory.poll_round_trip_ms(100, new_connection=True) == 200


# -- the everyday comparison stays on loopback ---------------------------------------------


def test_the_everyday_rows_are_the_loopback_ones_when_the_sweep_has_them():
    everyday = chatlab_rows(rows(), workload="chat")
    assert everyday and not any(r.link for r in everyday)
    only_linked = chatlab_rows(synthetic_network_rows(), workload="chat")
    assert only_linked and all(r.link and not r.new_connection_per_request for r in only_linked)


# -- tables --------------------------------------------------------------------------------


def test_latency_against_the_round_trip_puts_theory_beside_each_run():
    latency = network_latency(rows())
    lines = {(line.row.transport, line.row.rtt_ms, line.row.new_connection_per_request): line
             for line in latency.lines}  # fmt: skip
    assert (latency.bases.way_out_ms, latency.bases.delivery_ms) == (0.0, 1.0)
    websocket = lines["websocket", 100.0, False]
    assert websocket.way_out_theory_ms == 50 and websocket.delivery_theory_ms == 101
    assert lines["short_poll", 100.0, False].way_out_theory_ms == 550
    assert lines["websocket", 0.0, False].row.link is False  # loopback beside it
    table = network_latency_table(latency)
    assert ("WebSocket", "100 ms round trip", "51.0", "50.0", "101.0", "101.0") == table.rows[-1][
        :6
    ]
    assert any("estimate" in note for note in table.notes)


def test_hickson_is_reproduced_and_the_difference_said():
    comparison = hickson(rows())
    assert comparison.rtt_ms == 100
    fresh, kept, push = comparison.lines
    assert (fresh.published_ms, fresh.measured_ms, fresh.theory_ms) == (150, 208, 200)
    assert (kept.published_ms, kept.measured_ms, kept.theory_ms) == (None, 105, 100)
    assert (push.published_ms, push.measured_ms, push.theory_ms) == (50, 51, 50)
    said = " ".join(comparison.sentences)
    assert "took 208 ms against the published 150" in said
    assert "two round trips (200 ms)" in said
    assert "took 51.0 ms on its way out against the published 50 ms" in said
    assert len(hickson_table(comparison).rows) == 3


def test_without_runs_over_a_link_the_tables_say_which_command_makes_them():
    alone = synthetic_chat_rows()
    assert "chatlab bench --quick" in network_latency(alone).notes[0]
    assert "chatlab bench --quick" in hickson(alone).sentences[0]
    assert "chatlab bench --quick" in " ".join(link_table(alone, {}).notes)


def test_the_links_bytes_and_cost_are_shown_beside_the_servers():
    found = change(rows(), "synthetic-long_poll-chat-rtt100", link_bytes_vs_server_percent=-2.0)
    assert "-2.00% at most" in (link_agreement(found) or "")
    environment = {"link_added_latency": {"round_trips": 1000, "straight_p50_us": 20.0,
                   "straight_p99_us": 60.0, "linked_p50_us": 38.0, "linked_p99_us": 90.0,
                   "added_p50_us": 18.0, "added_p99_us": 30.0}}  # fmt: skip
    said = " ".join(link_cost(environment, found))
    assert "At rtt 0 the link adds 18 µs to a round trip at the median (30 µs at p99)" in said
    assert "200.0 to 200.0 µs of CPU per delivered message" in said
    table = link_table(found, environment)
    assert len(table.rows) == 7 and table.rows[0][4] == "0.50%"


# -- claims --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "judge",
    [short_polling_waits, long_polling_transits, push_one_transit,
     fresh_connection_costs_a_handshake],
)  # fmt: skip
def test_the_latency_claims_are_judged_against_theory(judge):
    assert judge(rows()).verdict == SUPPORTED
    alone = judge(synthetic_chat_rows())
    assert alone.verdict == NOT_MEASURED and "chatlab bench --quick" in alone.evidence


def test_a_way_out_far_from_one_transit_contradicts_the_push_claim():
    found = change(rows(), "synthetic-sse-chat-rtt100", from_server_p50_ms=90.0)
    claim = push_one_transit(found)
    assert claim.verdict == CONTRADICTED
    assert "Server-Sent Events 90.0 ms (theory 50.0)" in claim.evidence


def test_bursts_beyond_three_transits_contradict_long_polling():
    found = change(rows(), "synthetic-long_poll-burst-rtt100", from_server_p99_ms=300.0)
    claim = long_polling_transits(found)
    assert claim.verdict == CONTRADICTED
    assert "p99 300 ms (6.0 transits; theory: at most 3, 150 ms)" in claim.evidence


def test_the_handshake_claim_quotes_the_measured_extra_round_trip():
    claim = fresh_connection_costs_a_handshake(rows())
    assert "the new connection cost 103 ms more, theory one round trip (100 ms" in claim.evidence
    found = change(rows(), "synthetic-short_poll-chat-rtt100-newconn", poll_response_p50_ms=110.0)
    assert fresh_connection_costs_a_handshake(found).verdict == CONTRADICTED


def test_a_claim_from_an_invalid_linked_run_is_inconclusive():
    found = change(rows(), "synthetic-short_poll-chat-rtt100", valid=False,
                   invalid_reasons=["the link at 90% CPU"])  # fmt: skip
    claim = short_polling_waits(found)
    assert claim.verdict == "inconclusive" and "the link at 90% CPU" in claim.evidence


# -- plots ---------------------------------------------------------------------------------


def test_latency_against_the_round_trip_draws_each_transport_and_its_theory(ax: Axes):
    notes = plots.latency_vs_rtt(ax, rows())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    names = ["short polling", "long polling", "Server-Sent Events", "WebSocket"]
    names += ["short polling, a new connection per poll",
              "theory: a transit each way (push, a parked long poll)",
              "theory: half of the 1 s interval + a transit each way"]  # fmt: skip
    for name in names:
        assert name in labels
    theory_lines = {line.get_label(): line for line in ax.lines if line.get_linestyle() == ":"}
    push = theory_lines["theory: a transit each way (push, a parked long poll)"]
    assert push.get_ydata()[0] == pytest.approx(1.0)  # the loopback part at rtt 0
    slope = (push.get_ydata()[1] - push.get_ydata()[0]) / (
        push.get_xdata()[1] - push.get_xdata()[0]
    )
    assert slope == pytest.approx(1.0)  # RTT / 2 in, RTT / 2 out
    polling = theory_lines["theory: half of the 1 s interval + a transit each way"]
    assert polling.get_ydata()[0] == pytest.approx(501.0)
    assert any("estimate" in note for note in notes)
    ax.figure.canvas.draw()


def test_bursts_over_a_link_draw_one_three_and_five_transits(ax: Axes):
    found = rows()
    samples = {r.run_id: [50.0, 60.0, 140.0, 150.0] for r in found if r.workload == "burst"}
    notes = plots.burst_over_link(ax, found, samples)
    marks = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":")
    assert marks == [50, 150, 250]
    assert "100 ms round trip" in ax.get_title()
    assert any("the server's time to fan a burst out" in note for note in notes)
    ax.figure.canvas.draw()


def test_the_report_has_the_network_section(tmp_path):
    from reports.build import build_report

    folder = write_synthetic_sweep(tmp_path / "sweep", rows())
    page = build_report(folder).read_text()
    summary = (folder / "report" / "summary.md").read_text()
    for text in (page, summary):
        assert "Over a network: the runs through an emulated link" in text
        assert "150 ms → 50 ms" in text
        assert "took 208 ms against the published 150" in text
    assert "could not be drawn" not in page
    assert "default preset" not in page
