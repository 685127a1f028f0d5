"""Short headless Locust runs against a live server, each in its own subprocess (importing
Locust would monkey-patch the test process)."""

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chat_core import Transport
from lab.run_files import read_latencies, read_scenario
from loadtests.plan import LOCUSTFILES
from loadtests.processes import LOADTESTS

# Small and quick: rooms of 3, a message every 0.3 s each, a 2 s window.
SMALL = ["--room-size=3", "--send-interval=0.3", "--poll-interval=0.2", "--lab-window=2"]


@dataclass
class LocustRun:
    exit_code: int
    output: str
    stats: list[dict[str, Any]]
    scenario: dict[str, Any]
    folder: Path

    def row(self, request_type: str, name: str) -> dict[str, Any]:
        found = [s for s in self.stats if s["method"] == request_type and s["name"] == name]
        assert found, (
            f"no {request_type} {name} row in {[(s['method'], s['name']) for s in self.stats]}"
        )
        return found[0]

    def counts(self, transport: str) -> dict[str, Any]:
        return self.scenario["transports"][transport]


def locust(host: str, files: list[str], folder: Path, *options: str, users: int = 6,
           timeout: float = 90) -> LocustRun:  # fmt: skip
    """`locust -f ... --headless` with a time limit as a safety net (the window ends it)."""
    command = [
        sys.executable, "-m", "locust", "-f", ",".join(str(LOADTESTS / f) for f in files),
        "--headless", "-u", str(users), "-r", str(users), "-t", "40s", "--host", host,
        "--json-file", str(folder / "locust"), "--only-summary", f"--lab-output={folder}",
        *options,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=folder)
    output = done.stdout + done.stderr
    stats_path = folder / "locust.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else []
    scenario = read_scenario(folder)
    assert scenario is not None or "Socket bind failure" in output, output[-3000:]
    return LocustRun(done.returncode, output, stats, scenario or {}, folder)


def assert_complete(run: LocustRun, transport: str) -> dict[str, Any]:
    counts = run.counts(transport)
    assert counts["sent"] > 0, run.output[-3000:]
    assert counts["delivered"] == counts["expected"] > 0
    assert counts["lost"] == counts["duplicated"] == counts["out_of_order"] == 0
    return counts


@pytest.mark.parametrize("transport", list(Transport))
def test_a_short_run_delivers_everything_and_times_each_delivery(server, tmp_path, transport):
    run = locust(server.url, [LOCUSTFILES[transport]], tmp_path, *SMALL)
    assert run.exit_code == 0, run.output[-3000:]
    counts = assert_complete(run, transport)
    deliver = run.row("deliver", transport)
    assert deliver["num_requests"] == counts["delivered"]
    assert deliver["num_failures"] == 0
    assert deliver["total_response_time"] > 0 and deliver["max_response_time"] > 0
    samples = read_latencies(tmp_path, transport)
    assert len(samples) == counts["window_delivered"] > 0
    assert min(samples) > 0
    assert run.scenario["window"]["seconds"] >= 2
    assert f"{transport}: sent {counts['sent']}" in run.output


@pytest.mark.parametrize("transport", [Transport.SHORT_POLL, Transport.WEBSOCKET])
def test_the_browser_header_profile_logs_in_with_the_cookie(server, tmp_path, transport):
    run = locust(server.url, [LOCUSTFILES[transport]], tmp_path, *SMALL,
                 "--header-profile=browser", "--workload=ticker")  # fmt: skip
    assert run.exit_code == 0, run.output[-3000:]
    assert_complete(run, transport)


@pytest.mark.parametrize("transport", [Transport.LONG_POLL, Transport.SSE, Transport.WEBSOCKET])
def test_dropped_connections_resume_from_the_cursor(server, tmp_path, transport):
    run = locust(server.url, [LOCUSTFILES[transport]], tmp_path, *SMALL, "--drop-every=0.5",
                 "--lab-window=3")  # fmt: skip
    assert run.exit_code == 0, run.output[-3000:]
    counts = assert_complete(run, transport)
    assert counts["reconnects"] > 0
    assert counts["resumed"] > 0  # messages sent while a receiver was away came back


def test_side_by_side_in_several_processes_the_counts_add_up(server, tmp_path):
    run = locust(server.url, ["ws.py", "sse.py"], tmp_path, *SMALL, "--processes=2", users=12)
    assert run.exit_code == 0, run.output[-3000:]
    assert len(run.scenario["generators"]) == 2
    for transport in (Transport.WEBSOCKET, Transport.SSE):
        assert_complete(run, transport)
        assert run.row("deliver", transport)["num_requests"] > 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _master_and_two_workers(host: str, folder: Path, port: int) -> LocustRun:
    worker = [sys.executable, "-m", "locust", "-f", str(LOADTESTS / "ws.py"), "--worker",
              "--master-host=127.0.0.1", f"--master-port={port}"]  # fmt: skip
    with (folder / "workers.log").open("w") as log:
        workers = [subprocess.Popen(worker, stdout=log, stderr=log, cwd=folder) for _ in (1, 2)]
        try:
            return locust(host, ["ws.py"], folder, *SMALL, "--master",
                          "--master-bind-host=127.0.0.1", f"--master-bind-port={port}",
                          "--expect-workers=2", users=8)  # fmt: skip
        finally:
            for process in workers:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def test_master_and_workers_on_localhost(server, tmp_path):
    for _attempt in (1, 2, 3):  # the free port may be taken before the master binds it
        run = _master_and_two_workers(server.url, tmp_path, _free_port())
        if "Socket bind failure" not in run.output:
            break
    assert run.exit_code == 0, run.output[-3000:]
    assert len(run.scenario["generators"]) == 2
    assert sum(g["users"] for g in run.scenario["generators"]) == 8
    assert_complete(run, Transport.WEBSOCKET)


def test_a_run_that_loses_messages_says_so_and_fails(server_factory, tmp_path):
    # Streams keep only 3 messages and the pollers look every 3 s: bursts of 10 must be lost.
    live = server_factory(STREAM_RETENTION=3, RATE_PER_SECOND=1000, RATE_BURST=1000)
    run = locust(live.url, ["short_poll.py"], tmp_path, "--workload=burst", "--burst-size=10",
                 "--send-interval=0.5", "--poll-interval=3", "--room-size=3",
                 "--lab-window=1.5", "--drain-timeout=1")  # fmt: skip
    counts = run.counts(Transport.SHORT_POLL)
    assert counts["lost"] > 0 and counts["gaps"] > 0
    assert run.exit_code != 0
    assert "deliveries LOST" in run.output
    assert run.scenario["problems"]
