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
    latency, cpu, *_ = results["one room of 100 over WebSocket"]["checks"]
    assert latency["met"] and cpu["met"] and cpu["value"] == pytest.approx(0.030)
    assert results["5"]["run_id"] is None  # 5,000 connections: not in this sweep


def test_chatlab_against_flask_socketio_is_a_target_at_most_the_ratio():
    ratios = {"server_cpu_per_msg_vs_peer": 0.5, "server_cpu_per_msg_vs_bare": 1.3}
    room = synthetic_row("websocket", 100, run_id="room", room_size=100, send_interval_s=1.0,
                         **ratios)  # fmt: skip
    poll = synthetic_row("long_poll", 1000, run_id="poll", peer_run_id="peer",
                         server_cpu_per_msg_vs_peer=1.1)  # fmt: skip
    results = {r["target"].split(",")[0]: r for r in evaluate([room, poll])}
    *_, peer, bare = results["one room of 100 over WebSocket"]["checks"]
    assert peer["met"] and peer["note"] == "met: at the limit"  # at the limit: within it
    assert not bare["met"] and bare["limit"] == 1.2
    (against,) = results["chat over long polling against Flask-SocketIO's long polling"]["checks"]
    assert (against["met"], against["limit"]) == (False, 1.0)
    assert against["note"] == "missed: 10% above the limit"


def test_chatlab_must_hold_as_many_users_as_flask_socketio_on_each_transport():
    from conftest import synthetic_capacity_rows

    results = {r["target"]: r for r in evaluate([], synthetic_capacity_rows())}
    (held,) = results["capacity over long polling: chatlab holds as many users as Flask-SocketIO"
                      ]["checks"]  # fmt: skip
    assert held["met"] and held["value"] == 2.0  # 1,000 against 500
    websocket = results["capacity over WebSocket: chatlab holds as many users as Flask-SocketIO"]
    assert websocket["run_id"] is None and "--capacity" in websocket["note"]
