"""The report's Flask-SocketIO comparison and capacity section, from synthetic rows: the pairs,
the transport's cost told apart from the implementation's, each transport's verdict, users per
core, the claim about scale, and what a quick sweep says it leaves out."""

from dataclasses import replace
from pathlib import Path

from conftest import (
    synthetic_capacity_rows,
    synthetic_chat_rows,
    synthetic_peer_rows,
    write_synthetic_sweep,
)
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.build import build_report
from reports.capacity import CapacityLine, capacity_lines
from reports.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_MEASURED,
    SUPPORTED,
    all_claims,
    long_polling_at_scale,
)
from reports.content import DEFAULT_PRESET_ADDS
from reports.peers import peer_comparison
from reports.plots import peer_cpu, users_per_core
from reports.tables import capacity_table, peer_table


def _rows() -> list:
    rows = synthetic_chat_rows()
    return rows + synthetic_peer_rows(rows)


def _axes():
    figure = Figure()
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def test_each_chatlab_transport_is_paired_with_its_flask_socketio_counterpart():
    comparison = peer_comparison(_rows())
    pairs = [(line.transport, line.chatlab.server, line.peer.server) for line in comparison.lines]
    assert pairs == [
        ("long_poll", "chatlab", "flask_socketio"),
        ("websocket", "chatlab", "flask_socketio"),
    ]
    assert comparison.lines[0].what == "long polling, chatlab vs Flask-SocketIO"
    transport, client_side = comparison.sentences
    # chatlab: 150 against 50 µs (3.0×); Flask-SocketIO: 200 against 100 µs (2.0×)
    assert "long polling costs 3.0× WebSocket's server CPU per delivered message in chatlab" in (
        transport
    )
    assert "and 2.0× in Flask-SocketIO — the transport's cost" in transport
    assert "chatlab costs 0.75× Flask-SocketIO's over long polling and 0.50× over WebSocket" in (
        transport
    )
    assert "counted on the client side" in client_side


def test_the_peer_table_shows_both_figures_the_ratio_and_the_sweeps_target():
    rows = _rows()
    check = {"measure": "server CPU per delivered message against Flask-SocketIO's long polling",
             "limit": 1.0, "note": "met: 25% below the limit"}  # fmt: skip
    targets = [{"target": "chat over long polling …", "run_id": "synthetic-long_poll-chat-40",
                "checks": [check]}]  # fmt: skip
    table = peer_table(peer_comparison(rows, targets))
    poll, ws = table.rows
    column = dict(zip(table.header, poll, strict=True))
    assert column["CPU / msg (µs)"] == "150.0 vs 200.0"
    assert column["chatlab ÷ Flask-SocketIO"] == "0.75× the CPU"
    assert column["target"] == "≤ 1×: met: 25% below the limit"
    assert column["bytes / msg"].endswith("(client side)")
    assert dict(zip(table.header, ws, strict=True))["target"] == "–"


def test_without_flask_socketio_runs_the_table_says_how_to_make_them():
    table = peer_table(peer_comparison(synthetic_chat_rows()))
    assert table.rows == []
    assert "socketio_polling" in table.notes[0]


def test_each_transports_verdict_says_whether_the_server_or_the_generator_ran_out():
    lines = capacity_lines(synthetic_capacity_rows())
    assert [line.who for line in lines] == [
        "long polling, chatlab", "long polling, Flask-SocketIO", "WebSocket, chatlab",
    ]  # fmt: skip
    assert [line.verdict for line in lines] == [
        "holds 1,000", "holds 500", "at least 2,000 (the generator ran out)",
    ]  # fmt: skip
    # stretched to a full core from the last step that counted: 2,000 users at 20%
    assert lines[2].per_core_estimate == 10_000
    table = capacity_table(synthetic_capacity_rows())
    first = dict(zip(table.header, table.rows[0], strict=True))
    assert (first["stopped at"], first["why"]) == ("2,000 users", "the server's core full (97%)")
    assert first["server CPU at the last counted"] == "80%"
    said = "long polling: chatlab holds 1,000, Flask-SocketIO holds 500."
    assert said in table.notes
    plan = CapacityLine(replace(synthetic_capacity_rows()[0], stopped_by="plan"))
    assert plan.verdict == "at least 1,000 (every step counted)"


def test_the_claim_about_scale_is_judged_from_chatlabs_capacity_runs():
    capacity = synthetic_capacity_rows()
    claim = long_polling_at_scale(capacity)
    assert claim.verdict == SUPPORTED  # 1,000 held against at least 2,000
    assert "long polling holds 1,000, its WebSocket at least 2,000" in claim.evidence
    assert "stopped at 2,000 users: the server's core full (97%)" in claim.evidence
    poll, ws, peer = capacity
    assert long_polling_at_scale([replace(poll, users=4000), replace(ws, stopped_by="server",
                                  at_least=False)]).verdict == CONTRADICTED  # fmt: skip
    assert long_polling_at_scale([replace(poll, stopped_by="generator"), ws]).verdict == (
        INCONCLUSIVE
    )
    assert long_polling_at_scale([peer, ws]).verdict == NOT_MEASURED  # Flask-SocketIO's only
    assert claim.claim not in [c.claim for c in all_claims(_rows())]  # no capacity runs
    assert claim.claim in [c.claim for c in all_claims(_rows(), capacity)]


def test_the_plots_draw_both_servers_and_the_capacity(tmp_path: Path):
    ax = _axes()
    notes = peer_cpu(ax, _rows())
    assert len(ax.patches) >= 4 and "hatched: Flask-SocketIO" in notes[0]
    ax = _axes()
    notes = users_per_core(ax, synthetic_capacity_rows())
    assert [round(p.get_height()) for p in ax.patches] == [1000, 500, 2000]
    assert any("an estimate" in note for note in notes)
    ax = _axes()
    assert "No chatlab run with a Flask-SocketIO run" in peer_cpu(ax, synthetic_chat_rows())[0]


def test_a_quick_sweep_says_what_the_default_preset_adds_and_draws_no_empty_capacity(
    tmp_path: Path,
):
    quick = write_synthetic_sweep(tmp_path / "quick", _rows(), environment={"preset": "quick"})
    summary = (build_report(quick).parent / "summary.md").read_text()
    assert summary.count(DEFAULT_PRESET_ADDS) == 1
    assert "## Capacity" not in summary and "users_per_core.png" not in summary
    assert "## chatlab beside Flask-SocketIO" in summary
    full = write_synthetic_sweep(tmp_path / "full", _rows(), capacity=synthetic_capacity_rows(),
                                 environment={"preset": "default"})  # fmt: skip
    index = build_report(full)
    summary = (index.parent / "summary.md").read_text()
    assert DEFAULT_PRESET_ADDS not in summary
    assert "## Capacity: where each transport hits the wall" in summary
    assert "at least 2,000 (the generator ran out)" in summary
    assert (index.parent / "users_per_core.png").stat().st_size > 1000
    assert "Capacity: where each transport hits the wall" in index.read_text()
