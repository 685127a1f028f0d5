"""The classic header-overhead table: the article's numbers, reproduced, and measured ones."""

from dataclasses import replace

import pytest
from conftest import synthetic_chat_rows, synthetic_row

from reports import theory
from reports.overhead import WS_ENVELOPE_BYTES, header_table, poll_overhead_bytes


@pytest.mark.parametrize("clients", theory.KAAZING_CLIENTS)
def test_the_published_throughputs_follow_from_871_and_2_bytes(clients: int) -> None:
    # the article's numbers, to the digits it printed (6.6, 66, 665; 0.015, 0.153, 1.526)
    for each, published in (
        (theory.KAAZING_POLL_BYTES, theory.KAAZING_POLLING_MBPS[clients]),
        (theory.KAAZING_FRAME_BYTES, theory.KAAZING_WEBSOCKET_MBPS[clients]),
    ):
        digits = len(f"{published:g}".partition(".")[2])
        assert round(theory.mbps(each, clients), digits) == published


def ticker_rows() -> list:
    rows = []
    for profile, poll_out in (("minimal", 180_000), ("browser", 500_000)):
        rows.append(synthetic_row(
            "short_poll", 100, workload="ticker", header_profile=profile, requests=1000,
            delivered=400, wire_bytes_in=120_000, wire_bytes_out=poll_out,
            payload_bytes_per_msg=100.0, tcpip_overhead_per_msg_estimate=260.0,
            run_id=f"synthetic-poll-{profile}",
        ))  # fmt: skip
        rows.append(synthetic_row(
            "websocket", 100, workload="ticker", header_profile=profile, delivered=400,
            wire_bytes_out_per_msg=133.0, payload_bytes_per_msg=100.0,
            tcpip_overhead_per_msg_estimate=52.0, run_id=f"synthetic-ws-{profile}",
        ))  # fmt: skip
    return rows


def test_a_poll_costs_its_bytes_less_the_payload_it_delivered() -> None:
    poll = ticker_rows()[0]
    # (120,000 + 180,000) / 1,000 requests = 300 bytes, less 100 × 400 / 1,000 = 40
    assert poll_overhead_bytes(poll) == pytest.approx(260.0)


def test_a_poll_is_counted_per_poll_answer_and_the_sends_share_is_said() -> None:
    # 1,000 requests, 800 of them polls: the other 200 were the clients' sends
    poll = replace(ticker_rows()[0], polls=800)
    # (120,000 + 180,000 - 100 × 400) / 800 polls
    assert poll_overhead_bytes(poll) == pytest.approx(325.0)
    table = header_table([poll, *ticker_rows()[1:]])
    line = next(x for x in table.lines if x.what == "polling" and x.profile == "minimal")
    assert line.sends_share == pytest.approx(0.2)
    assert "The run's sends were 20% of its requests" in " ".join(table.differences)


def test_measured_lines_for_both_header_profiles_beside_the_published() -> None:
    table = header_table(ticker_rows())
    assert table.workload == "ticker"
    assert not table.missing
    lines = {(line.what, line.source, line.profile): line for line in table.lines}
    assert lines[("polling", "published", None)].bytes_each == 871
    assert lines[("websocket", "published", None)].bytes_each == 2
    assert lines[("polling", "measured", "minimal")].bytes_each == pytest.approx(260.0)
    assert lines[("polling", "measured", "browser")].bytes_each == pytest.approx(580.0)
    ws = lines[("websocket", "measured", "minimal")]
    assert ws.bytes_each == pytest.approx(33.0)
    assert ws.mbps[100_000] == pytest.approx(33 * 100_000 * 8 / 2**20)
    # the TCP/IP estimate is carried per poll: 260 per message × 400 / 1,000 requests
    assert lines[("polling", "measured", "minimal")].tcpip_estimate == pytest.approx(104.0)


def test_the_differences_are_explained_from_the_numbers() -> None:
    said = " ".join(header_table(ticker_rows()).differences)
    assert "minimal header profile measured 260 bytes, 30% of the published 871" in said
    assert f"{WS_ENVELOPE_BYTES}-byte envelope" in said
    assert "leaves 4.0 bytes of framing" in said
    assert "estimate from segment counts" in said


def test_without_ticker_or_browser_runs_the_table_says_what_to_run() -> None:
    table = header_table(synthetic_chat_rows())
    assert table.workload == "chat"
    missing = " ".join(table.missing)
    assert "No `ticker` runs" in missing and "No `browser` header-profile runs" in missing
    assert "`chatlab bench --quick`" in missing


def test_an_empty_sweep_keeps_only_the_published_lines() -> None:
    table = header_table([])
    assert [line.source for line in table.lines] == ["published", "published"]
    assert table.missing


def test_the_envelope_size_is_the_one_the_server_writes() -> None:
    from chat_core import Message
    from transports.websocket import ws_message_frame

    message = Message(1, "room", None, "alice", "hi", 1.0)
    frame = ws_message_frame(message)
    assert len(frame) - 2 - len(message.json) == WS_ENVELOPE_BYTES  # 2: the frame header
