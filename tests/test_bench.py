"""`chatlab bench` end to end with tiny runs: real servers, real Locust, every file written."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab.results import read_summary
from lab.run_files import read_latencies


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    here = tmp_path_factory.mktemp("sweep")  # `--results-root` relative to where it runs
    done = subprocess.run(
        [sys.executable, "-m", "chatlab", "bench", "--transports",
         "short_poll,long_poll,sse,websocket,bare_broadcast", "--users", "8",
         "--send-interval", "0.5", "--duration", "2", "--results-root", "results"],
        capture_output=True, text=True, timeout=240, cwd=here,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("results: "), last
    folder = Path(last.removeprefix("results: "))
    assert folder.parent == here / "results"
    return done, folder


def test_the_sweep_writes_its_files(sweep):
    _, folder = sweep
    environment, rows = read_summary(folder)
    assert [(row.server, row.transport) for row in rows] == [
        ("chatlab", "short_poll"), ("chatlab", "long_poll"), ("chatlab", "sse"),
        ("chatlab", "websocket"), ("bare_broadcast", "websocket"),
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
        assert len(read_latencies(run, row.transport)) == row.latency_samples
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
