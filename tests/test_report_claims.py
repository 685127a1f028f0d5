"""The argument's claims are judged by ratios computed from the rows, never written in."""

from dataclasses import replace

from conftest import synthetic_chat_rows, synthetic_row

from reports.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_MEASURED,
    SUPPORTED,
    all_claims,
    baseline_comparison,
    long_poll_reconnects,
    polling_wastes,
    websocket_is_lean,
)


def swap(rows: list, transport: str, users: int, **changes: object) -> list:
    return [
        replace(r, **changes) if (r.transport, r.users) == (transport, users) else r for r in rows
    ]


def test_polling_wastes_is_supported_by_the_measured_ratios() -> None:
    claim = polling_wastes(synthetic_chat_rows())
    assert claim.verdict == SUPPORTED
    # at 40 users: 48 requests/s against 4, 750 bytes a message against 202
    assert "At 40 users" in claim.evidence
    assert "12.0× the requests per second" in claim.evidence
    assert "3.7× the bytes per delivered message" in claim.evidence
    assert "60% of its polls came back empty" in claim.evidence
    assert claim.run_ids == ("synthetic-short_poll-chat-40", "synthetic-websocket-chat-40")


def test_polling_wastes_is_contradicted_when_websocket_moves_more_bytes() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, wire_bytes_per_msg=1500.0)
    claim = polling_wastes(rows)
    assert claim.verdict == CONTRADICTED
    assert "0.5× the bytes per delivered message" in claim.evidence


def test_a_claim_from_invalid_runs_is_inconclusive_and_says_why() -> None:
    rows = [
        replace(r, valid=False, invalid_reasons=["generator CPU 97% > 85%"])
        for r in synthetic_chat_rows()
    ]
    claim = polling_wastes(rows)
    assert claim.verdict == INCONCLUSIVE
    assert "generator CPU 97% > 85%" in claim.evidence


def test_valid_runs_are_preferred_to_invalid_ones_at_a_lower_user_count() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, valid=False)
    assert "At 10 users" in polling_wastes(rows).evidence


def test_claims_without_runs_say_which_command_measures_them() -> None:
    for claim in all_claims([]):
        assert claim.verdict == NOT_MEASURED
        assert "`chatlab bench --quick`" in claim.evidence


def test_long_polling_reconnects_per_message() -> None:
    claim = long_poll_reconnects(synthetic_chat_rows())
    assert claim.verdict == SUPPORTED
    assert "0.83 HTTP requests per delivered message" in claim.evidence  # 600 / 720
    # less the sends, 80 / 720 = 0.11 per delivered message
    assert "0.11 per delivered message" in claim.evidence
    assert "0.72 polls per delivered message" in claim.evidence
    assert "60.0 requests per second, 1.2× short polling's 48.0 (every 1 s)" in claim.evidence


def test_long_polling_that_batches_contradicts_a_reconnect_per_message() -> None:
    # 224 requests for 720 deliveries, 80 of them sends: 144 polls, 0.2 a message
    rows = swap(synthetic_chat_rows(), "long_poll", 40, requests=224)
    claim = long_poll_reconnects(rows)
    assert claim.verdict == CONTRADICTED
    assert "an answer carried 5.0 messages on average" in claim.evidence


def test_websocket_needs_one_connection_and_few_bytes() -> None:
    claim = websocket_is_lean(synthetic_chat_rows())
    assert claim.verdict == SUPPORTED
    assert "held 40 connections open at the end for 40 users after 0 reconnects" in claim.evidence
    assert "(1.00 per user)" in claim.evidence
    # 182 - 150 = 32 bytes out beyond the JSON: the 29-byte envelope and 3 of framing
    assert "cost 32.0 bytes beyond its JSON" in claim.evidence
    assert "29-byte JSON envelope and 3.0 bytes of framing" in claim.evidence
    # both ways 202 - 150 = 52, against polling's 750 - 150 = 600
    assert "52.0 bytes against short polling's 600 (11.5× as many)" in claim.evidence


def test_more_framing_than_a_frame_header_contradicts_a_few_bytes() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, wire_bytes_out_per_msg=199.0)
    claim = websocket_is_lean(rows)
    assert claim.verdict == CONTRADICTED
    assert "20.0 bytes of framing" in claim.evidence


def test_websocket_reconnecting_contradicts_one_connection() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, reconnects=40)
    claim = websocket_is_lean(rows)
    assert claim.verdict == CONTRADICTED
    assert "(2.00 per user)" in claim.evidence


def test_without_open_connection_counts_the_connections_opened_are_used() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, open_connections=0, requests=80)
    claim = websocket_is_lean(rows)
    assert claim.verdict == CONTRADICTED
    assert "opened 80 connections for 40 users (2.00 per user)" in claim.evidence


def test_websocket_opening_no_connection_in_the_window_still_supports_the_claim() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, requests=0, requests_per_s=0.0)
    claim = polling_wastes(rows)
    assert claim.verdict == SUPPORTED
    assert "48.0 requests per second while WebSocket made none" in claim.evidence


def test_server_cpu_is_quoted_against_the_bare_broadcast_baseline() -> None:
    rows = synthetic_chat_rows() + [
        synthetic_row(
            "websocket", 40, server="bare_broadcast", server_cpu_per_msg_us=12.5, delivered=720
        )
    ]
    said = baseline_comparison(rows)
    assert any("WebSocket: 50.0 µs" in s and "4.0× the bare broadcast loop's 12.5 µs" in s
               for s in said)  # fmt: skip
    assert len(said) == 4


def test_without_a_baseline_the_command_that_runs_it_is_named() -> None:
    (said,) = baseline_comparison(synthetic_chat_rows())
    assert "`chatlab bench --quick`" in said


def test_runs_that_vary_another_knob_stay_out_of_the_everyday_comparison() -> None:
    rows = synthetic_chat_rows()
    rows.append(replace(rows[-1], run_id="synthetic-room-100", room_size=100, requests=4000,
                        requests_per_s=400.0, label="room of 100"))  # fmt: skip
    claim = polling_wastes(rows)
    assert "synthetic-room-100" not in claim.run_ids
    assert "12.0× the requests per second" in claim.evidence


def test_per_message_numbers_use_the_deliveries_inside_the_measurement_window() -> None:
    rows = swap(synthetic_chat_rows(), "long_poll", 40, delivered=1000, window_delivered=600)
    assert "1.00 HTTP requests per delivered message" in long_poll_reconnects(rows).evidence


def test_the_baseline_is_compared_only_with_runs_under_the_same_load() -> None:
    rows = synthetic_chat_rows() + [
        synthetic_row("websocket", 40, server="bare_broadcast", room_size=100,
                      server_cpu_per_msg_us=10.0),
        synthetic_row("websocket", 40, room_size=100, server_cpu_per_msg_us=30.0,
                      run_id="synthetic-ws-room-100"),
    ]  # fmt: skip
    (said,) = baseline_comparison(rows)
    assert "WebSocket: 30.0 µs" in said and "3.0× the bare broadcast loop's 10.0 µs" in said
    assert "rooms of 100" in said


def test_the_baseline_is_never_taken_for_chatlabs_websocket_run() -> None:
    bare = synthetic_row("websocket", 40, server="bare_broadcast", wire_bytes_per_msg=50.0,
                         requests_per_s=4.0, server_cpu_per_msg_us=10.0)  # fmt: skip
    claim = polling_wastes([bare, *synthetic_chat_rows()])
    assert "synthetic-bare_broadcast-chat-40" not in claim.run_ids
    assert "(750 B against 202 B)" in claim.evidence
