"""What the sweep needs of the link and the ledger to measure over a network: the link's
counts and CPU at a given moment (SIGUSR1), and each delivery's way out of the server."""

import socket
import time
from pathlib import Path

import pytest
from test_link import receive

from lab.process_usage import process_cpu_seconds
from link.process import LinkProcess, read_snapshot
from loadtests.ledger import Ledger, LedgerReport
from loadtests.link_reading import read_link


@pytest.fixture
def linked(tmp_path: Path):
    """A link of rtt 0 to a listener of ours, and both ends of one connection through it."""
    target = socket.create_server(("127.0.0.1", 0))
    target.settimeout(10)
    link = LinkProcess(target.getsockname()[:2], 0.0, stats=tmp_path / "link.json",
                       stderr=tmp_path / "link.stderr")  # fmt: skip
    target.accept()[0].close()  # the link's start-up check of its target
    client = socket.create_connection(link.address, timeout=10)
    server, _ = target.accept()
    server.settimeout(10)
    yield link, client, server
    client.close()
    server.close()
    link.stop()
    target.close()


def test_a_snapshot_holds_the_bytes_carried_up_to_the_moment_it_was_asked(linked) -> None:
    link, client, server = linked
    first = link.snapshot()
    client.sendall(b"u" * 1000)
    assert receive(server, 1000) == b"u" * 1000
    server.sendall(b"d" * 300)
    assert receive(client, 300) == b"d" * 300
    second = link.snapshot()  # at once: the periodic rewrite comes only once a second
    assert second["snapshot"] == first["snapshot"] + 1
    assert second["bytes"]["up_written"] - first["bytes"]["up_written"] == 1000
    assert second["bytes"]["down_read"] - first["bytes"]["down_read"] == 300
    assert second["connections"]["accepted"] == 1


def test_the_coordinator_reads_the_links_counts_and_cpu_through_its_pid_file(
    linked, tmp_path: Path
) -> None:
    link, client, server = linked
    pid_file = tmp_path / "link.pid"
    pid_file.write_text(str(link.pid))
    before = read_link(str(pid_file), str(link.stats_path))
    client.sendall(b"x" * 5000)
    assert receive(server, 5000) == b"x" * 5000
    after = read_link(str(pid_file), str(link.stats_path))
    assert before is not None and after is not None
    assert after["bytes"]["up_written"] - before["bytes"]["up_written"] == 5000
    assert after["cpu_seconds"] >= before["cpu_seconds"] > 0
    assert after["connections"] == {"accepted": 1, "open": 1}


def test_a_link_that_cannot_be_read_gives_none(tmp_path: Path) -> None:
    assert read_link("", "") is None
    missing = tmp_path / "no-such.pid"
    assert read_link(str(missing), str(tmp_path / "link.json")) is None


def test_a_snapshot_that_never_comes_is_an_error_not_a_wait_forever(tmp_path: Path) -> None:
    import subprocess
    import sys

    # a live process that ignores SIGUSR1 and writes nothing
    code = "import signal, time; signal.signal(signal.SIGUSR1, signal.SIG_IGN); print(1, "
    code += "flush=True); time.sleep(30)"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE) as quiet:
        try:
            assert quiet.stdout is not None and quiet.stdout.readline().strip() == b"1"
            started = time.monotonic()
            with pytest.raises(RuntimeError, match="wrote no snapshot"):
                read_snapshot(quiet.pid, tmp_path / "stats.json", timeout=0.3)
            assert time.monotonic() - started < 5
        finally:
            quiet.kill()


def test_the_cpu_of_a_process_is_read_from_the_scheduler() -> None:
    import os

    spent = process_cpu_seconds(os.getpid())
    # work of our own until the scheduler's count moves: it is brought up to date at its
    # ticks and switches, so a fixed few milliseconds of work sometimes read as none
    deadline = time.monotonic() + 5
    while process_cpu_seconds(os.getpid()) == spent and time.monotonic() < deadline:
        sum(range(10_000))
    assert process_cpu_seconds(os.getpid()) > spent > 0
    with pytest.raises(OSError):
        process_cpu_seconds(2**22 + 7)  # above any pid_max: no such process


# -- the ledger: the way out of the server --------------------------------------------------


def test_the_way_out_is_timed_from_the_servers_acceptance() -> None:
    ledger = Ledger()
    ledger.expect("a-1", ["bob"])
    ledger.expect("a-2", ["bob"])
    ledger.expect("a-3", ["bob"])
    # sent at 100.000, accepted by the server at 100.050, arrived at 100.120: 120 ms to
    # deliver, 70 of them on the way out
    ledger.received("bob", "a-1", 1, ts=100.0, arrival=100.12, size=10, accepted_at=100.05)
    ledger.received("bob", "a-2", 2, ts=101.0, arrival=101.01, size=10)  # a server with no `at`
    ledger.received("bob", "a-3", 3, ts=200.0, arrival=200.5, size=10, accepted_at=200.4)
    report = ledger.report(window_start=99.0, window_end=150.0)
    assert [round(v, 1) for v in report.latencies_ms] == [120.0, 10.0]
    assert [round(v, 1) for v in report.from_server_ms] == [70.0]  # inside the window, with `at`
    again = LedgerReport.from_wire(report.to_wire())
    assert list(again.from_server_ms) == list(report.from_server_ms)
    merged = LedgerReport.empty()
    merged.merge(again)
    merged.merge(again)
    assert len(merged.from_server_ms) == 2
