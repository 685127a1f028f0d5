"""The load lab's arithmetic and bookkeeping, from fixed inputs: no server, no Locust."""

import argparse
import subprocess
import sys
import threading
from array import array

import msgpack
import pytest

from loadtests import bench, plan
from loadtests.figures import (
    RunFacts,
    add_comparisons,
    counter_delta,
    derive_row,
    latency_figures,
    percentile,
)
from loadtests.ledger import Ledger, LedgerReport
from loadtests.options import ScenarioOptions
from loadtests.plan import RunSpec
from loadtests.results import RunRow, read_summary, write_summary
from loadtests.rooms import RoomBook
from loadtests.targets import evaluate

# -- percentiles ----------------------------------------------------------------------------


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


def test_latency_figures_sort_their_samples():
    figures = latency_figures(array("f", [4.0, 1.0, 3.0, 2.0]))
    assert figures == {"samples": 4, "p50": 2.0, "p95": 4.0, "p99": 4.0, "max": 4.0,
                       "mean": 2.5}  # fmt: skip


# -- one run's row --------------------------------------------------------------------------


def _metrics(cpu: float, rss: int, **counters: int) -> dict:
    base = {"requests": 0, "open": 0, "bytes_in": 0, "bytes_out": 0, "segs_in": 0,
            "segs_out": 0, "delivered": 0, "empty_polls": 0}  # fmt: skip
    base.update(counters)
    return {"transports": {"short_poll": base}, "process": {"cpu_seconds": cpu, "rss_bytes": rss}}


def _scenario(**overrides: object) -> dict:
    counts = {"sent": 100, "expected": 1000, "delivered": 1000, "lost": 0, "duplicated": 0,
              "out_of_order": 0, "gaps": 0, "resumed": 0, "unexpected": 0, "reconnects": 0,
              "send_failures": 0, "abandoned": 0, "payload_bytes": 150_000,
              "window_delivered": 800}  # fmt: skip
    counts.update(overrides)
    return {
        "window": {"start": 100.0, "end": 110.0, "seconds": 10.0},
        "server_start": _metrics(
            2.0,
            50_000_000,
            requests=1000,
            bytes_in=10_000,
            bytes_out=20_000,
            segs_in=10,
            segs_out=20,
            delivered=100,
            empty_polls=500,
        ),  # fmt: skip
        "server_end": _metrics(
            2.4,
            60_000_000,
            requests=3000,
            bytes_in=410_000,
            bytes_out=820_000,
            segs_in=2010,
            segs_out=2020,
            delivered=900,
            empty_polls=1500,
            open=3,
        ),  # fmt: skip
        "generators": [{"cpu_percent": 20.0}, {"cpu_percent": 35.5}],
        "transports": {"short_poll": counts},
    }


SPEC = RunSpec("short_poll", "chat", 100, window=10.0)
FACTS = RunFacts("01-short_poll", "t0", "t1", locust_exit_code=0, server_pinned=True, cores=2,
                 server_before={"process": {"rss_bytes": 40_000_000}})  # fmt: skip
SAMPLES = array("f", [float(n) for n in range(1, 801)])


def test_per_message_figures_divide_the_window_by_its_deliveries():
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
    assert row.empty_polls == 1000 and row.empty_poll_share == 0.5
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
    assert row.empty_poll_share == 0.5


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


# -- comparisons and targets ----------------------------------------------------------------


def _row(run_id: str, transport: str, **figures: object) -> RunRow:
    row = RunRow(run_id, transport, "chat", 100, 10, 5.0, 1.0, 25.0, "minimal", 10.0, "", "")
    for name, value in figures.items():
        setattr(row, name, value)
    return row


def test_ratios_compare_with_websocket_and_websocket_with_the_bare_loop():
    rows = [
        _row("ws", "websocket", wire_bytes_per_msg=200.0, server_cpu_per_msg_us=50.0),
        _row("sp", "short_poll", wire_bytes_per_msg=800.0, server_cpu_per_msg_us=400.0),
        _row("bare", "bare_broadcast", server_cpu_per_msg_us=20.0),
        _row("other", "long_poll", users=300, wire_bytes_per_msg=1.0),
    ]
    add_comparisons(rows)
    ws, sp, bare, other = rows
    assert (sp.websocket_run_id, sp.wire_bytes_per_msg_vs_websocket) == ("ws", 4.0)
    assert sp.server_cpu_per_msg_vs_websocket == 8.0
    assert (ws.bare_run_id, ws.server_cpu_per_msg_vs_bare) == ("bare", 2.5)
    assert other.websocket_run_id == "" and other.wire_bytes_per_msg_vs_websocket is None
    assert bare.server_cpu_per_msg_vs_websocket is None


def test_targets_say_met_or_missed_by_how_much():
    chat = _row("chat", "websocket", users=1000, latency_p99_ms=60.0, lost=0,
                generator_cpu_percent=40.0)  # fmt: skip
    room = _row("room", "websocket", room_size=100, send_interval_s=1.0, latency_p99_ms=5.0,
                server_cpu_per_msg_us=30.0)  # fmt: skip
    results = {r["target"].split(",")[0]: r for r in evaluate([chat, room])}
    p99, lost, generator = results["chat over WebSocket"]["checks"]
    assert not p99["met"] and p99["note"] == "missed: 20% above the limit"
    assert lost["met"] and generator["met"]
    latency, cpu = results["one room of 100 over WebSocket"]["checks"]
    assert latency["met"] and cpu["met"] and cpu["value"] == pytest.approx(0.030)
    assert results["5"]["run_id"] is None  # 5,000 connections: not in this sweep


# -- the ledger -----------------------------------------------------------------------------


def test_every_owed_delivery_is_counted_once():
    ledger = Ledger()
    ledger.expect("a-1", ["a", "b", "c"])
    ledger.accepted()
    assert ledger.received("b", "a-1", 7, 10.0, 10.005, 120) == pytest.approx(5.0)
    ledger.received("a", "a-1", 7, 10.0, 10.001, 120)
    assert ledger.pending == 1
    ledger.received("b", "a-1", 7, 10.0, 10.2, 120)  # again: a duplicate
    report = ledger.report(None, None)
    counts = report.counts
    assert (counts.sent, counts.expected, counts.delivered) == (1, 3, 2)
    assert (counts.duplicated, counts.lost, counts.payload_bytes) == (1, 1, 240)
    assert report.window_delivered == 2


def test_an_older_owed_message_is_out_of_order_and_a_stray_one_unexpected():
    ledger = Ledger()
    ledger.expect("x-1", ["r"])
    ledger.expect("x-2", ["r"])
    ledger.received("r", "x-2", 2, 1.0, 1.0, 10)
    ledger.received("r", "x-1", 1, 1.0, 1.0, 10)
    ledger.received("r", "nobody-1", 3, 1.0, 1.0, 10)
    counts = ledger.report(None, None).counts
    assert (counts.delivered, counts.out_of_order, counts.unexpected) == (2, 1, 1)


def test_a_failed_send_is_withdrawn_and_a_departed_user_abandons_what_it_was_owed():
    settled = threading.Event()
    ledger = Ledger(on_settled=settled.set)
    ledger.expect("a-1", ["a", "b"])
    ledger.withdraw("a-1")
    assert ledger.pending == 0 and settled.is_set()
    settled.clear()
    ledger.expect("a-2", ["a", "b"])
    ledger.received("a", "a-2", 5, 1.0, 1.0, 10)
    ledger.depart("b")
    counts = ledger.report(None, None).counts
    assert (counts.expected, counts.send_failures, counts.abandoned, counts.lost) == (2, 1, 1, 0)
    assert settled.is_set()


def test_the_report_keeps_only_latencies_that_arrived_inside_the_window():
    ledger = Ledger()
    for n, arrival in enumerate((5.0, 10.0, 15.0, 20.0, 25.0)):
        ledger.expect(f"c-{n}", ["r"])
        ledger.received("r", f"c-{n}", n + 1, arrival - 0.002, arrival, 10)
    report = ledger.report(10.0, 20.0)
    assert report.window_delivered == 3
    assert report.counts.delivered == 5
    assert list(report.latencies_ms) == pytest.approx([2.0, 2.0, 2.0], rel=1e-3)


def test_reports_from_several_processes_add_up_through_the_wire_form():
    first, second = Ledger(), Ledger()
    for ledger, cid in ((first, "p1-1"), (second, "p2-1")):
        ledger.expect(cid, ["r"])
        ledger.accepted()
        ledger.received("r", cid, 1, 1.0, 1.003, 10)
    merged = LedgerReport.empty()
    for ledger in (first, second):
        wire = ledger.report(None, None).to_wire()
        carried = msgpack.unpackb(msgpack.packb(wire))  # as Locust's messaging carries it
        merged.merge(LedgerReport.from_wire(carried))
    assert merged.counts.sent == 2 and merged.counts.delivered == 2
    assert merged.window_delivered == 2 and len(merged.latencies_ms) == 2


# -- rooms ----------------------------------------------------------------------------------


def test_a_room_opens_when_full_and_every_member_has_joined():
    book = RoomBook("p", 3, threading.Event)
    rooms = [book.assign(name) for name in ("a", "b", "c", "d")]
    assert rooms[0] is rooms[1] is rooms[2] and rooms[3] is not rooms[0]
    book.ready(rooms[0], "a")
    book.ready(rooms[0], "b")
    assert not rooms[0].is_open
    book.ready(rooms[0], "c")
    assert rooms[0].is_open and rooms[0].publisher == "a"
    assert rooms[0].others("b") == ["a", "c"]
    book.ready(rooms[3], "d")
    assert not rooms[3].is_open and not book.all_open()
    book.open_partial_rooms()
    assert rooms[3].is_open and book.all_open()
    assert book.assign("e") is not rooms[3]  # an open room takes nobody


def test_a_member_that_failed_to_join_does_not_hold_its_room_shut():
    book = RoomBook("p", 2, threading.Event)
    room = book.assign("a")
    book.assign("b")
    book.ready(room, "a")
    book.abandon(room, "b")
    assert not room.is_open  # not full: only opened once no more users are coming
    book.open_partial_rooms()
    assert room.is_open and room.members == ["a"]


# -- options and plans ----------------------------------------------------------------------


def test_the_send_interval_defaults_per_workload():
    def parsed(**values: object) -> argparse.Namespace:
        defaults = dict(workload="chat", room_size=10, send_interval=0.0, poll_interval=1.0,
                        long_poll_timeout=25.0, header_profile="minimal", burst_size=20,
                        private_share=0.1, drop_every=0.0, drain_timeout=10.0, lab_window=0.0,
                        lab_output="")  # fmt: skip
        return argparse.Namespace(**{**defaults, **values})

    assert ScenarioOptions.from_parsed(parsed()).send_interval == 5.0
    assert ScenarioOptions.from_parsed(parsed(workload="ticker")).send_interval == 1.0
    assert ScenarioOptions.from_parsed(parsed(send_interval=0.5)).send_interval == 0.5
    with pytest.raises(ValueError, match="room-size"):
        ScenarioOptions.from_parsed(parsed(room_size=0))


def test_the_quick_preset_is_chat_over_every_transport_at_two_levels():
    quick = plan.quick()
    assert {(s.transport, s.users) for s in quick} == {
        (t, u) for t in plan.TRANSPORTS for u in (50, 200)
    }
    assert {s.workload for s in quick} == {"chat"}


def test_the_default_preset_holds_what_the_report_draws():
    default = plan.default()
    names = [spec.run_name(i) for i, spec in enumerate(default, 1)]
    assert len(set(names)) == len(names)
    chat = {(s.transport, s.users) for s in default if s.workload == "chat" and s.room_size == 10}
    assert all(len({u for t, u in chat if t == transport}) >= 2 for transport in plan.TRANSPORTS)
    ticker = {(s.transport, s.header_profile) for s in default if s.workload == "ticker"}
    assert ticker == {(t, p) for t in plan.TRANSPORTS for p in ("minimal", "browser")}
    intervals = {s.poll_interval for s in default if s.transport == "short_poll"}
    assert len(intervals) >= 3
    assert {s.transport for s in default if s.workload == "idle"} >= {"websocket", "long_poll"}
    assert {s.transport for s in default if s.workload == "burst"} == set(plan.TRANSPORTS)
    assert any(s.transport == plan.BARE for s in default)


def test_choosing_on_the_command_line_makes_every_combination():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--transports", "short_poll,websocket", "--users", "5,10",
                              "--poll-interval", "0.5,2", "--duration", "3"])  # fmt: skip
    name, runs = bench.build_plan(args)
    assert name == "custom"
    assert sorted((s.transport, s.users, s.poll_interval) for s in runs) == [
        ("short_poll", 5, 0.5), ("short_poll", 5, 2.0), ("short_poll", 10, 0.5),
        ("short_poll", 10, 2.0), ("websocket", 5, 1.0), ("websocket", 10, 1.0),
    ]  # fmt: skip
    assert {s.window for s in runs} == {3.0}


def test_an_unknown_transport_is_refused():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    with pytest.raises(SystemExit, match="carrier_pigeon"):
        bench.build_plan(parser.parse_args(["--transports", "carrier_pigeon"]))


# -- results stay readable ------------------------------------------------------------------


def test_summaries_round_trip_and_old_rows_still_load(tmp_path):
    row = _row("r1", "websocket", invalid_reasons=["a", "b"], valid=False)
    write_summary(tmp_path, {"cores": 2}, [row])
    environment, rows = read_summary(tmp_path)
    assert environment == {"cores": 2} and rows == [row]
    old = {k: v for k, v in row.as_dict().items() if k not in ("label", "window_s", "bare_run_id")}
    assert RunRow.from_dict(old).window_s is None
    assert "a; b" in (tmp_path / "summary.csv").read_text()


def test_importing_the_sweep_loads_neither_locust_nor_gevent():
    heavy = "('locust', 'gevent', 'geventhttpclient')"
    loaded = f"[m for m in sys.modules if m.split('.')[0] in {heavy}]"
    code = f"import sys, loadtests.bench; print({loaded})"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
