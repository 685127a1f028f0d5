"""The load generator's ledger: completeness and latency, counted from fixed inputs."""

import threading

import msgpack
import pytest

from loadtests.ledger import Ledger, LedgerReport


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
