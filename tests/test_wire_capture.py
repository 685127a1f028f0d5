"""The notebook's captured exchanges are real bytes from a live server, correctly counted."""

import json

import pytest

from chat_core.message import dumps
from reports.wire_capture import TO_CLIENT, WS_ACCEPT, capture_all, render


@pytest.fixture(scope="module")
def exchanges(server) -> dict:
    return capture_all(server.url)


def test_every_transport_delivers_bobs_message(exchanges: dict) -> None:
    assert set(exchanges) == {"short_poll", "long_poll", "sse", "websocket"}
    for name, exchange in exchanges.items():
        wire, message = exchange.delivery_bytes()
        assert 0 < message < wire, name
        delivered = [p for p in exchange.parts if p.delivers and p.message_bytes]
        assert len(delivered) == 1, name
        assert b"hello from bob (" in delivered[0].data


def test_the_first_short_poll_is_empty_and_all_overhead(exchanges: dict) -> None:
    request, answer = exchanges["short_poll"].parts[:2]
    assert request.data.startswith(b"GET /api/poll?since=")
    assert answer.data.startswith(b"HTTP/1.1 200 ")
    assert json.loads(answer.data[answer.head_bytes :])["messages"] == []
    assert answer.message_bytes == 0 and answer.overhead_bytes == answer.size


def test_message_bytes_are_the_messages_json_as_the_server_encodes_it(exchanges: dict) -> None:
    part = next(p for p in exchanges["short_poll"].parts if p.message_bytes)
    body = json.loads(part.data[part.head_bytes :])
    assert part.message_bytes == len(dumps(body["messages"][0]))
    assert part.head_bytes == part.data.index(b"\r\n\r\n") + 4


def test_the_websocket_exchange_is_framed_as_rfc_6455_says(exchanges: dict) -> None:
    parts = exchanges["websocket"].parts
    assert f"Sec-WebSocket-Accept: {WS_ACCEPT}".encode() in parts[1].data
    frame = next(p for p in parts if p.delivers)
    assert frame.direction == TO_CLIENT
    payload = frame.data[frame.head_bytes :]
    # a text frame, FIN set, with the 2- or 4-byte header its length calls for
    assert frame.data[0] == 0x81
    assert frame.head_bytes == (2 if len(payload) < 126 else 4)
    envelope = json.loads(payload)
    assert envelope["type"] == "message"
    assert frame.overhead_bytes == frame.head_bytes + len(payload) - frame.message_bytes
    sent = next(p for p in parts if p.label == "alice sends a frame")
    assert sent.head_bytes in (6, 8)  # masked: 4 bytes of key on top
    assert json.loads(sent.unmasked)["type"] == "send"


def test_the_long_poll_was_held_until_bob_spoke(exchanges: dict) -> None:
    parts = exchanges["long_poll"].parts
    assert parts[0].data.startswith(b"GET /api/longpoll?since=")
    assert parts[1].message_bytes > 0
    assert json.loads(parts[3].data.split(b"\r\n\r\n", 1)[1])["messages"] == []


def test_the_rendering_shows_the_bytes_and_their_count(exchanges: dict) -> None:
    text = "\n".join(render(exchanges["websocket"]))
    assert "HTTP/1.1 101 Switching Protocols" in text
    assert "[frame header 81 " in text
    assert "bytes of message JSON" in text
