"""A run's row from what it left behind: percentiles, per-message numbers, validity, and the
ratios between runs. Fixed inputs: no server, no Locust."""

from array import array
from dataclasses import replace

import pytest
from conftest import synthetic_row

from loadtests.derive import (
    RunFacts,
    add_comparisons,
    capacity_row,
    counter_delta,
    derive_row,
    latency_summary,
    percentile,
)
from loadtests.plan import RunSpec

# -- percentiles ---------------------------------------------------------------------------


def test_nearest_rank_percentiles_of_one_to_a_hundred():
    ordered = [float(n) for n in range(1, 101)]
    assert percentile(ordered, 50) == 50
    assert percentile(ordered, 95) == 95
    assert percentile(ordered, 99) == 99
    assert percentile(ordered, 100) == 100


def test_percentiles_of_few_samples_are_samples():
    assert percentile([3.0], 99) == 3.0
    assert percentile([1.0, 2.0, 10.0], 50) == 2.0
    assert percentile([1.0, 2.0, 10.0], 99) == 10.0
    assert percentile([], 50) is None


def test_latency_summary_sorts_its_samples():
    summary = latency_summary(array("f", [4.0, 1.0, 3.0, 2.0]))
    assert summary == {"samples": 4, "p50": 2.0, "p95": 4.0, "p99": 4.0, "max": 4.0,
                       "mean": 2.5}  # fmt: skip


# -- one run's row -------------------------------------------------------------------------


def _metrics(cpu: float, rss: int, **counters: int) -> dict:
    base = {"requests": 0, "open": 0, "bytes_in": 0, "bytes_out": 0, "segs_in": 0,
            "segs_out": 0, "delivered": 0, "polls": 0, "empty_polls": 0}  # fmt: skip
    base.update(counters)
    return {"transports": {"short_poll": base}, "process": {"cpu_seconds": cpu, "rss_bytes": rss}}


# The server's counters when the window opened, and what they grew by inside it.
START = {"requests": 1000, "bytes_in": 10_000, "bytes_out": 20_000, "segs_in": 10,
         "segs_out": 20, "delivered": 100, "polls": 600, "empty_polls": 500}  # fmt: skip
GROWTH = {"requests": 2000, "bytes_in": 400_000, "bytes_out": 800_000, "segs_in": 2000,
          "segs_out": 2000, "delivered": 800, "polls": 1600, "empty_polls": 1000}  # fmt: skip
END = {**{key: START[key] + GROWTH[key] for key in START}, "open": 3}


def _scenario(**overrides: object) -> dict:
    counts = {"sent": 100, "expected": 1000, "delivered": 1000, "lost": 0, "duplicated": 0,
              "out_of_order": 0, "gaps": 0, "resumed": 0, "unexpected": 0, "reconnects": 0,
              "send_failures": 0, "abandoned": 0, "payload_bytes": 150_000,
              "window_delivered": 800}  # fmt: skip
    counts.update(overrides)
    return {
        "window": {"start": 100.0, "end": 110.0, "seconds": 10.0},
        "server_start": _metrics(2.0, 50_000_000, **START),
        "server_end": _metrics(2.4, 60_000_000, **END),
        "generators": [{"cpu_percent": 20.0}, {"cpu_percent": 35.5}],
        "transports": {"short_poll": counts},
    }


SPEC = RunSpec("short_poll", "chat", 100, window=10.0)
FACTS = RunFacts("01-short_poll", "t0", "t1", locust_exit_code=0, server_pinned=True, cores=2,
                 server_before={"process": {"rss_bytes": 40_000_000}})  # fmt: skip
SAMPLES = array("f", [float(n) for n in range(1, 801)])


def test_per_message_numbers_divide_the_window_by_its_deliveries():
    row = derive_row(SPEC, FACTS, _scenario(), SAMPLES, [{"num_failures": 0}])
    assert row.window_delivered == 800
    assert row.deliveries_per_s == 80
    assert row.wire_bytes_in == 400_000 and row.wire_bytes_out == 800_000
    assert row.wire_bytes_in_per_msg == 500
    assert row.wire_bytes_out_per_msg == 1000
    assert row.wire_bytes_per_msg == 1500
    assert row.tcpip_overhead_per_msg_estimate == pytest.approx(4000 * 52 / 800)
    assert row.payload_bytes_per_msg == 150
    assert row.requests == 2000 and row.requests_per_s == 200
    assert row.polls == 1600  # the other 400 requests were sends, not polls
    assert row.empty_polls == 1000 and row.empty_poll_share == 1000 / 1600
    assert row.server_cpu_s == pytest.approx(0.4)
    assert row.server_cpu_per_msg_us == pytest.approx(500)
    assert row.server_delivered == 800
    assert row.generator_cpu_percent == 35.5 and row.generator_processes == 2
    assert row.latency_p50_ms == 400 and row.latency_p99_ms == 792 and row.latency_max_ms == 800
    assert row.valid, row.invalid_reasons


def test_memory_per_connection_is_growth_over_the_fresh_server_per_open_connection():
    spec = RunSpec("long_poll", "idle", 3)
    scenario = _scenario()
    for key in ("server_start", "server_end"):
        scenario[key]["transports"]["long_poll"] = scenario[key]["transports"].pop("short_poll")
    scenario["transports"]["long_poll"] = scenario["transports"].pop("short_poll")
    row = derive_row(spec, FACTS, scenario, SAMPLES, [])
    assert row.open_connections == 3
    assert row.rss_per_connection_bytes == pytest.approx((60_000_000 - 40_000_000) / 3)
    assert row.empty_poll_share == 1000 / 1600  # empty polls over polls


def test_short_polling_has_no_memory_per_connection():
    row = derive_row(SPEC, FACTS, _scenario(), SAMPLES, [])
    assert row.rss_per_connection_bytes is None


@pytest.mark.parametrize(
    ("overrides", "generators", "failures", "reason"),
    [
        ({"lost": 3}, 10.0, 0, "3 deliveries lost"),
        ({"duplicated": 2}, 10.0, 0, "2 deliveries duplicated"),
        ({"out_of_order": 1}, 10.0, 0, "1 deliveries out of order"),
        ({}, 91.0, 0, "load generator at 91% CPU"),
        ({}, 10.0, 4, "4 requests failed"),
        ({"window_delivered": 0}, 10.0, 0, "nothing was delivered"),
    ],
)
def test_a_run_that_breaks_a_rule_is_invalid_and_says_why(overrides, generators, failures,
                                                           reason):  # fmt: skip
    scenario = _scenario(**overrides)
    scenario["generators"] = [{"cpu_percent": generators}]
    row = derive_row(SPEC, FACTS, scenario, SAMPLES, [{"num_failures": failures}])
    assert not row.valid
    assert any(reason in text for text in row.invalid_reasons), row.invalid_reasons


def test_an_unpinned_server_on_a_multicore_machine_is_invalid():
    facts = RunFacts("r", "t0", "t1", server_pinned=False, cores=2)
    row = derive_row(SPEC, facts, _scenario(), SAMPLES, [])
    assert "the server was not pinned to its own core" in row.invalid_reasons


def test_a_run_without_scenario_output_is_invalid():
    row = derive_row(SPEC, FACTS, None, array("f"), None)
    assert not row.valid and "left no results" in row.invalid_reasons[0]


def test_counter_delta_is_none_when_a_counter_is_missing():
    assert counter_delta(_metrics(0, 0, requests=1), _metrics(0, 0, requests=5), "short_poll",
                         "requests") == 4  # fmt: skip
    assert counter_delta({"transports": {"websocket": {}}}, None, "websocket", "requests") is None
    assert counter_delta({"transports": {}}, {"transports": {}}, "sse", "bytes_in") is None


# -- over a link -----------------------------------------------------------------------------

LINKED = RunSpec("short_poll", "chat", 100, window=10.0, rtt_ms=100.0, new_connection=True)


def _link_reading(up: int, down: int, accepted: int, cpu: float) -> dict:
    return {"bytes": {"up_read": up, "up_written": up, "down_read": down, "down_written": down},
            "connections": {"accepted": accepted, "open": 3}, "cpu_seconds": cpu}  # fmt: skip


def _linked_scenario(link_cpu: float = 1.5, generator_cpu: float = 35.5) -> dict:
    scenario = _scenario()
    scenario["generators"] = [{"cpu_percent": generator_cpu}]
    scenario["link_start"] = _link_reading(5_000, 7_000, 10, 3.0)
    # the server counted 400,000 in and 800,000 out; the link 6,000 bytes more
    scenario["link_end"] = _link_reading(5_000 + 406_000, 7_000 + 800_000, 1_610, 3.0 + link_cpu)
    scenario["transports"]["short_poll"]["from_server_ms"] = {"samples": 3, "p50": 60.0,
        "p95": 80.0, "p99": 90.0, "max": 95.0, "mean": 61.5}  # fmt: skip
    return scenario


def test_a_linked_row_records_its_network_and_the_links_window():
    row = derive_row(LINKED, FACTS, _linked_scenario(), SAMPLES, [])
    assert (row.link, row.rtt_ms, row.new_connection_per_request) == (True, 100.0, True)
    assert (row.link_bytes_up, row.link_bytes_down) == (406_000, 800_000)
    assert row.link_bytes_vs_server_percent == pytest.approx(100 * 6_000 / 1_200_000)
    assert row.link_connections == 1_600  # a new connection per poll
    assert row.link_cpu_s == pytest.approx(1.5)
    assert row.link_cpu_percent == pytest.approx(15.0)  # 1.5 s in a 10 s window
    assert row.link_cpu_per_msg_us == pytest.approx(1.5e6 / 800)
    assert row.generator_side_cpu_percent == pytest.approx(35.5 + 15.0)  # one generator core
    assert (row.from_server_p50_ms, row.from_server_p99_ms) == (60.0, 90.0)
    assert row.valid, row.invalid_reasons


def test_the_link_and_the_generator_together_must_leave_the_core_headroom():
    row = derive_row(LINKED, FACTS, _linked_scenario(link_cpu=3.0, generator_cpu=60.0), SAMPLES,
                     [])  # fmt: skip
    assert row.generator_cpu_percent == 60.0 and row.link_cpu_percent == pytest.approx(30.0)
    assert not row.valid
    assert any("the generator's cores at 90% CPU, the load generator and the link together"
               in reason for reason in row.invalid_reasons), row.invalid_reasons  # fmt: skip
    two_cores = replace(FACTS, generator_cores=2)
    assert derive_row(LINKED, two_cores, _linked_scenario(3.0, 60.0), SAMPLES, []).valid


def test_a_linked_run_whose_link_was_not_read_is_invalid():
    scenario = _linked_scenario()
    scenario["link_end"] = None
    row = derive_row(LINKED, FACTS, scenario, SAMPLES, [])
    assert row.link_cpu_percent is None and row.link_bytes_up is None
    assert any("the link's counts and CPU could not be read" in r for r in row.invalid_reasons)


def test_a_polls_own_time_comes_from_locusts_statistics():
    stats = [
        {"name": "short_poll /api/poll", "num_requests": 10, "num_failures": 0,
         "total_response_time": 2_050.0, "response_times": {"200": 6, "210": 3, "260": 1}},
        {"name": "short_poll /api/messages", "num_requests": 4, "num_failures": 0,
         "total_response_time": 400.0, "response_times": {"100": 4}},
    ]  # fmt: skip
    row = derive_row(LINKED, FACTS, _linked_scenario(), SAMPLES, stats)
    assert row.poll_response_mean_ms == pytest.approx(205.0)
    assert row.poll_response_p50_ms == 200.0  # 6 of 10 at 200 ms or less
    websocket = derive_row(RunSpec("websocket", "chat", 10), FACTS, _scenario(), SAMPLES, stats)
    assert websocket.poll_response_mean_ms is None


# -- comparisons between runs --------------------------------------------------------------


def test_ratios_compare_with_websocket_and_websocket_with_the_bare_loop():
    rows = [
        synthetic_row(
            "websocket", 100, run_id="ws", wire_bytes_per_msg=200.0, server_cpu_per_msg_us=50.0
        ),
        synthetic_row(
            "short_poll", 100, run_id="sp", wire_bytes_per_msg=800.0, server_cpu_per_msg_us=400.0
        ),
        synthetic_row(
            "websocket", 100, server="bare_broadcast", run_id="bare", server_cpu_per_msg_us=20.0
        ),
        synthetic_row("long_poll", 300, run_id="other", wire_bytes_per_msg=1.0),
    ]
    add_comparisons(rows)
    ws, sp, bare, other = rows
    assert (sp.websocket_run_id, sp.wire_bytes_per_msg_vs_websocket) == ("ws", 4.0)
    assert sp.server_cpu_per_msg_vs_websocket == 8.0
    assert (ws.bare_run_id, ws.server_cpu_per_msg_vs_bare) == ("bare", 2.5)
    assert other.websocket_run_id == "" and other.wire_bytes_per_msg_vs_websocket is None
    assert bare.server_cpu_per_msg_vs_websocket is None


def test_the_printed_ratios_say_which_network_and_which_connections_they_compare():
    from loadtests.console import ratios

    rows = [
        synthetic_row("websocket", 50, run_id="ws", rtt_ms=100.0, wire_bytes_per_msg=100.0,
                      server_cpu_per_msg_us=10.0),
        synthetic_row("short_poll", 50, run_id="kept", rtt_ms=100.0, wire_bytes_per_msg=300.0,
                      server_cpu_per_msg_us=60.0),
        synthetic_row("short_poll", 50, run_id="fresh", rtt_ms=100.0, wire_bytes_per_msg=400.0,
                      server_cpu_per_msg_us=70.0, new_connection_per_request=True),
    ]  # fmt: skip
    add_comparisons(rows)
    (line,) = ratios(rows)
    assert line.startswith("chat, 50 users, rooms of 10, over a 100 ms round trip — ")
    assert "every 1 s 3.0× the bytes, 6.0× the CPU" in line
    assert "every 1 s, a new connection per poll 4.0× the bytes, 7.0× the CPU" in line


def test_a_peer_run_counts_under_its_clients_name_and_its_bytes_at_the_client():
    spec = RunSpec.of("socketio_polling", "chat", 100, window=10.0)
    scenario = _scenario()
    for moment in ("server_start", "server_end"):  # the peer's metrics hold no bytes
        counters = scenario[moment]["transports"].pop("short_poll")
        for key in ("bytes_in", "bytes_out", "segs_in", "segs_out"):
            counters.pop(key)
        scenario[moment]["transports"]["socketio_polling"] = counters
    scenario["transports"] = {"socketio_polling": scenario["transports"]["short_poll"]}
    # the generator's sockets: what they took in is what the server sent
    scenario["meters"] = {"client_wire": {"bytes_in": 800_000, "bytes_out": 240_000}}
    row = derive_row(spec, FACTS, scenario, SAMPLES, [])
    assert (row.server, row.transport, row.wire_counted_at) == ("flask_socketio", "long_poll",
                                                                "client")  # fmt: skip
    assert (row.wire_bytes_in, row.wire_bytes_out) == (240_000, 800_000)
    assert row.wire_bytes_per_msg == 1_040_000 / 800
    assert row.tcpip_overhead_per_msg_estimate is None  # no segment counts at the client
    assert (row.requests, row.polls, row.server_delivered) == (2000, 1600, 800)
    assert row.server_cpu_per_msg_us == pytest.approx(0.4 / 800 * 1e6)
    assert row.delivered == 1000 and row.valid, row.invalid_reasons
    chatlab = derive_row(SPEC, FACTS, _scenario(), SAMPLES, [])
    assert chatlab.wire_counted_at == "server" and chatlab.wire_bytes_in == 400_000


def test_chatlab_is_compared_with_flask_socketio_over_the_same_transport_and_load():
    rows = [
        synthetic_row("long_poll", 100, run_id="lp", server_cpu_per_msg_us=90.0,
                      wire_bytes_per_msg=500.0),
        synthetic_row("long_poll", 100, run_id="peer-lp", server="flask_socketio",
                      server_cpu_per_msg_us=100.0, wire_bytes_per_msg=400.0),
        synthetic_row("websocket", 100, run_id="ws", server_cpu_per_msg_us=40.0),
        synthetic_row("websocket", 300, run_id="peer-ws-300", server="flask_socketio",
                      server_cpu_per_msg_us=100.0),
    ]  # fmt: skip
    add_comparisons(rows)
    lp, peer, ws, other = rows
    assert (lp.peer_run_id, lp.server_cpu_per_msg_vs_peer) == ("peer-lp", 0.9)
    assert lp.wire_bytes_per_msg_vs_peer == 1.25
    assert ws.peer_run_id == "" and ws.server_cpu_per_msg_vs_peer is None  # not the same load
    assert peer.peer_run_id == "" and peer.websocket_run_id == "ws"  # against chatlab's WS


CAPACITY_REPORT = {"plan": [10, 20, 40], "hold_s": 1.5, "settle_s": 0.5, "drain_s": 2.0,
                   "p99_limit_ms": 250.0,
                   "result": {"users": 20, "at_least": False, "stopped_by": "server",
                              "reason": "p99 300 ms, over 250 ms", "sentence": "20 users; …",
                              "steps": [{"users": 10, "counted": True},
                                        {"users": 20, "counted": True},
                                        {"users": 40, "counted": False}]}}  # fmt: skip


def test_a_capacity_runs_row_is_its_result_and_is_invalid_when_it_ended_early():
    spec = RunSpec.of("socketio_websocket", "chat", 40, window=1.5, capacity=(10, 2.0, 40))
    row = capacity_row(spec, FACTS, CAPACITY_REPORT)
    assert (row.server, row.transport) == ("flask_socketio", "websocket")
    assert (row.users, row.stopped_by) == (20, "server")
    assert row.plan == [10, 20, 40] and len(row.steps) == 3 and row.valid
    result = CAPACITY_REPORT["result"]
    partial = {**CAPACITY_REPORT, "result": {**result, "stopped_by": "plan",
                                             "steps": result["steps"][:2]}}  # fmt: skip
    assert capacity_row(spec, FACTS, partial).invalid_reasons == [
        "the run ended after 2 of its 3 steps"
    ]
    missing = capacity_row(spec, FACTS, None)
    assert not missing.valid and "left no result" in missing.invalid_reasons[0]
