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


def test_long_polling_that_batches_contradicts_a_reconnect_per_message() -> None:
    rows = swap(synthetic_chat_rows(), "long_poll", 40, requests=144)  # 720 delivered
    claim = long_poll_reconnects(rows)
    assert claim.verdict == CONTRADICTED
    assert "an answer carried 5.0 messages on average" in claim.evidence


def test_websocket_needs_one_connection_and_few_bytes() -> None:
    claim = websocket_is_lean(synthetic_chat_rows())
    assert claim.verdict == SUPPORTED
    # 182 - 150 = 32 out; 202 - 150 = 52 both ways, against polling's 750 - 150 = 600
    assert "1.00 connections per user" in claim.evidence
    assert "32.0 bytes per delivered message" in claim.evidence
    assert "short polling spent 600, 11.5× as many" in claim.evidence


def test_websocket_reconnecting_contradicts_one_connection() -> None:
    rows = swap(synthetic_chat_rows(), "websocket", 40, requests=80)
    claim = websocket_is_lean(rows)
    assert claim.verdict == CONTRADICTED
    assert "2.00 connections per user" in claim.evidence


def test_server_cpu_is_quoted_against_the_bare_broadcast_baseline() -> None:
    rows = synthetic_chat_rows() + [
        synthetic_row("bare_broadcast", 40, server_cpu_per_msg_us=12.5, delivered=720)
    ]
    said = baseline_comparison(rows)
    assert any("WebSocket: 50.0 µs" in s and "4.0× the bare broadcast loop's 12.5 µs" in s
               for s in said)  # fmt: skip
    assert len(said) == 4


def test_without_a_baseline_the_command_that_runs_it_is_named() -> None:
    (said,) = baseline_comparison(synthetic_chat_rows())
    assert "`chatlab bench` (default preset)" in said
