"""The target scenarios' checks against a sweep's rows: met, or missed by how much."""

import pytest
from conftest import synthetic_row

from loadtests.targets import evaluate


def test_targets_say_met_or_missed_by_how_much():
    chat = synthetic_row("websocket", 1000, run_id="chat", latency_p99_ms=60.0, lost=0,
                         generator_cpu_percent=40.0)  # fmt: skip
    room = synthetic_row("websocket", 100, run_id="room", room_size=100, send_interval_s=1.0,
                         latency_p99_ms=5.0, server_cpu_per_msg_us=30.0)  # fmt: skip
    results = {r["target"].split(",")[0]: r for r in evaluate([chat, room])}
    p99, lost, generator = results["chat over WebSocket"]["checks"]
    assert not p99["met"] and p99["note"] == "missed: 20% above the limit"
    assert lost["met"] and generator["met"]
    latency, cpu = results["one room of 100 over WebSocket"]["checks"]
    assert latency["met"] and cpu["met"] and cpu["value"] == pytest.approx(0.030)
    assert results["5"]["run_id"] is None  # 5,000 connections: not in this sweep
