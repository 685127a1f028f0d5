"""`chatlab bench` end to end with tiny runs: real servers, real Locust, every file written."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.results import read_capacity, read_summary
from lab.run_files import read_latencies
from lab.servers import client_name
from reports.build import build_report
from reports.capacity import CapacityLine


def run_sweep(here: Path, *options: str) -> tuple[subprocess.CompletedProcess, Path]:
    """`chatlab bench OPTIONS` in `here`; its output and its results folder."""
    done = subprocess.run(
        [sys.executable, "-m", "chatlab", "bench", *options, "--results-root", "results"],
        capture_output=True, text=True, timeout=240, cwd=here,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("results: "), last
    folder = Path(last.removeprefix("results: "))
    assert folder.parent == here / "results"
    return done, folder


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    here = tmp_path_factory.mktemp("sweep")  # `--results-root` relative to where it runs
    # chatlab's four, the bare loop, and Flask-SocketIO's two (spelled as their clients are)
    return run_sweep(here, "--transports", "short_poll,long_poll,sse,websocket,bare_broadcast,"
                     "socketio_websocket,socketio_polling", "--users", "8", "--send-interval",
                     "0.5", "--duration", "2")  # fmt: skip


def test_the_sweep_writes_its_files(sweep):
    _, folder = sweep
    environment, rows = read_summary(folder)
    assert [(row.server, row.transport) for row in rows] == [
        ("chatlab", "short_poll"), ("chatlab", "long_poll"), ("chatlab", "sse"),
        ("chatlab", "websocket"), ("bare_broadcast", "websocket"),
        ("flask_socketio", "websocket"), ("flask_socketio", "long_poll"),
    ]  # fmt: skip
    with (folder / "summary.csv").open() as table:
        assert [line["run_id"] for line in csv.DictReader(table)] == [r.run_id for r in rows]
    for key in ("commit", "cores", "packages", "pinning", "server_config", "plan", "ended_at"):
        assert environment[key] is not None, key
    assert environment["packages"]["locust"]
    for row in rows:
        run = folder / row.run_id
        for name in ("locust.json", "scenario.json", "server.stderr", "locust.stdout"):
            assert (run / name).exists(), f"{row.run_id}/{name}"
        assert len(read_latencies(run, client_name(row.server, row.transport))) == (
            row.latency_samples
        )
    assert json.loads((folder / "targets.json").read_text())


def test_every_number_is_present_and_sane(sweep):
    _, folder = sweep
    _, rows = read_summary(folder)
    for row in rows:
        assert row.valid, (row.run_id, row.invalid_reasons)
        assert row.lost == row.duplicated == row.out_of_order == 0
        assert row.delivered == row.expected > 0
        assert row.window_s and row.window_s >= 2
        assert row.latency_samples == row.window_delivered > 0
        assert 0 < row.latency_p50_ms <= row.latency_p95_ms <= row.latency_p99_ms
        assert row.latency_p99_ms <= row.latency_max_ms
        assert row.deliveries_per_s > 0
        assert row.server_cpu_per_msg_us > 0 and row.server_rss_bytes > 0
        assert 0 < row.generator_cpu_percent < 100
        assert row.payload_bytes_per_msg > len("The quick brown fox jumps over the lazy dog")
        if row.server == "bare_broadcast":
            assert row.wire_bytes_per_msg is None  # the bare server counts no bytes
            continue
        assert row.wire_bytes_out_per_msg > row.payload_bytes_per_msg
        assert row.wire_bytes_in_per_msg > 0
        assert row.server_delivered >= row.window_delivered
        # Flask-SocketIO counts no bytes: the generator's sockets did, over the same window
        assert row.wire_counted_at == ("client" if row.server == "flask_socketio" else "server")


def test_polling_rows_count_requests_and_empty_polls(sweep):
    _, folder = sweep
    rows = {row.transport: row for row in read_summary(folder)[1] if row.server == "chatlab"}
    assert rows["short_poll"].requests_per_s > 0
    assert 0 <= rows["short_poll"].empty_poll_share <= 1
    assert rows["long_poll"].empty_poll_share is not None
    assert rows["sse"].empty_poll_share is None
    assert rows["websocket"].rss_per_connection_bytes is not None


def test_the_ratios_are_measured_within_the_sweep(sweep):
    done, folder = sweep
    rows = {(row.server, row.transport): row for row in read_summary(folder)[1]}
    websocket = rows["chatlab", "websocket"]
    for transport in ("short_poll", "long_poll", "sse"):
        row = rows["chatlab", transport]
        assert row.websocket_run_id == websocket.run_id
        assert row.wire_bytes_per_msg_vs_websocket == pytest.approx(
            row.wire_bytes_per_msg / websocket.wire_bytes_per_msg
        )
    assert websocket.bare_run_id == rows["bare_broadcast", "websocket"].run_id
    assert websocket.server_cpu_per_msg_vs_bare > 0
    assert "Measured ratios:" in done.stdout and "bare broadcast loop" in done.stdout
    for transport in ("long_poll", "websocket"):  # each beside its Flask-SocketIO counterpart
        ours, peer = rows["chatlab", transport], rows["flask_socketio", transport]
        assert ours.peer_run_id == peer.run_id
        assert ours.server_cpu_per_msg_vs_peer == pytest.approx(
            ours.server_cpu_per_msg_us / peer.server_cpu_per_msg_us
        )
        assert peer.open_connections == 8  # the peer's own count, under its clients' name
    polling = rows["flask_socketio", "long_poll"]
    assert polling.requests > polling.polls > 0
    assert "of Flask-SocketIO, long polling" in done.stdout


def test_the_report_sets_each_transport_beside_flask_socketio(sweep):
    _, folder = sweep
    summary = (build_report(folder).parent / "summary.md").read_text()
    section = summary.split("## chatlab beside Flask-SocketIO")[1].split("\n## ")[0]
    assert "| long polling, chatlab vs Flask-SocketIO |" in section
    assert "| WebSocket, chatlab vs Flask-SocketIO |" in section
    assert "the transport's cost" in section and "counted on the client side" in section


def test_a_capacity_run_steps_up_until_the_plan_ends_and_lands_in_the_summary(tmp_path: Path):
    # rooms of 10 (the chat's), steps of 10 and 20 users, each measured 1.5 s
    options = ["--transports", "socketio_websocket", "--users", "10,20", "--send-interval", "0.5"]
    done, folder = run_sweep(tmp_path, "--capacity", *options, "--duration", "1.5")
    assert read_summary(folder)[1] == []
    (row,) = read_capacity(folder)
    assert (row.server, row.transport, row.plan) == ("flask_socketio", "websocket", [10, 20])
    assert row.valid, row.invalid_reasons
    # both steps on an idle machine; on a shared one another process may crowd the server's
    # core first (its step then says so): the result is whatever the steps said, in order
    counted = [step["users"] for step in row.steps if step["counted"]]
    assert [step["users"] for step in row.steps] == [10, 20][: len(counted) + 1]
    assert row.users == (counted[-1] if counted else 0)
    assert (
        row.stopped_by == "plan" if counted == [10, 20] else row.stopped_by in ("server", "machine")
    )
    for step in row.steps:
        assert step["counted"] == (not step["reasons"]) and step["lost"] == 0
        assert 0 < step["p99_ms"] and 0 < step["server_cpu_percent"] < 95  # the peer's process
        # its core busy in all holds at least the server's own share (ticks of 10 ms)
        assert step["core_busy_percent"] >= step["server_cpu_percent"] - 5
    assert "Capacity (the largest user count that still counted):" in done.stdout
    assert f"Flask-SocketIO, WebSocket: {row.sentence}" in done.stdout
    targets = json.loads((folder / "targets.json").read_text())
    assert any(t["target"].startswith("capacity over WebSocket") for t in targets)
    summary = (build_report(folder).parent / "summary.md").read_text()
    assert "## Capacity: where each transport hits the wall" in summary
    assert f"| WebSocket, Flask-SocketIO | {CapacityLine(row).verdict} |" in summary


# -- over an emulated link ------------------------------------------------------------------

RTT_MS = 200.0  # large beside the machine's own noise: every bound below is the link's floor
POLL_S = 0.2


@pytest.fixture(scope="module")
def linked_sweep(tmp_path_factory: pytest.TempPathFactory) -> list:
    here = tmp_path_factory.mktemp("linked")
    # a send a second each: at the chat's 5 s, 8 users sent ~3 messages in the 2 s window,
    # and now and then none arrived inside it
    _, folder = run_sweep(here, "--transports", "websocket,short_poll", "--users", "8",
                          "--rtt", f"{RTT_MS:g}", "--poll-interval", f"{POLL_S:g}",
                          "--send-interval", "1", "--duration", "2")  # fmt: skip
    return read_summary(folder)[1]


def test_over_a_link_websocket_takes_a_transit_and_short_polling_half_an_interval_more(
    linked_sweep,
):
    rows = {row.transport: row for row in linked_sweep}
    for row in rows.values():
        assert row.valid, (row.run_id, row.invalid_reasons)
        assert (row.link, row.rtt_ms) == (True, RTT_MS)
    websocket, polling = rows["websocket"], rows["short_poll"]
    # the way out of the server is one transit at least; a delivery adds the sender's
    assert websocket.from_server_p50_ms >= RTT_MS / 2
    assert websocket.latency_p50_ms >= RTT_MS
    assert websocket.latency_p50_ms >= RTT_MS / 2
    assert polling.latency_p50_ms >= POLL_S * 1000 / 2 + RTT_MS / 2
    # a kept-alive poll takes a round trip at least
    assert polling.poll_response_p50_ms >= RTT_MS


def test_the_link_counts_the_same_bytes_as_the_server_and_its_cpu_is_the_generators(
    linked_sweep,
):
    for row in linked_sweep:
        assert row.link_bytes_up > 0 and row.link_bytes_down > 0
        assert abs(row.link_bytes_vs_server_percent) < 5, row.run_id
        assert row.link_connections == 0  # kept alive: every connection opened before the window
        assert row.link_cpu_s > 0 and row.link_cpu_per_msg_us > 0
        assert row.generator_side_cpu_percent >= row.generator_cpu_percent


def test_a_new_connection_per_poll_pays_the_handshake(tmp_path: Path) -> None:
    _, folder = run_sweep(tmp_path, "--transports", "short_poll", "--users", "8",
                          "--rtt", "100", "--new-connection", "--send-interval", "1",
                          "--duration", "2")  # fmt: skip
    (row,) = read_summary(folder)[1]
    assert row.valid, row.invalid_reasons
    assert row.new_connection_per_request
    # one connection per poll (a poll whose connection opened just before the window may be
    # answered inside it: one per user at most)
    assert row.link_connections >= row.polls - row.users > 0
    assert row.poll_response_p50_ms >= 2 * 100  # the handshake's round trip, then the poll's
