"""The WebSocket server's framing over a real socket: `/ws` reads what comes right behind
its upgrade request and answers close frames as RFC 6455 says; the echo service for
conformance suites, `/ws/echo`, is off unless WS_ECHO is set, and has the same handshake
checks, codec and limits as `/ws`."""

import json
import os

import pytest
from raw_ws import RawWebSocket

from wire.websocket import (
    BinaryMessage,
    Close,
    CloseCode,
    Opcode,
    Pong,
    TextMessage,
    close_payload,
    frame,
)


@pytest.fixture
def echo_server(server_factory):
    return server_factory(WS_ECHO=True)


@pytest.fixture
def user(echo_server, people):
    _, (alice,) = people(echo_server, "alice")
    return alice


def open_echo(server, token: str, **kwargs) -> RawWebSocket:
    ws = RawWebSocket(server.url, f"/ws/echo?token={token}", **kwargs)
    assert ws.status == 101, ws.body
    return ws


def test_ws_reads_frames_sent_right_behind_its_upgrade_request(server, people):
    room, (alice,) = people(server, "alice")
    join = json.dumps({"type": "join", "room": room}).encode()
    ws = RawWebSocket(
        server.url,
        f"/ws?since={alice.cursor}",
        {"Authorization": f"Bearer {alice.token}"},
        early=frame(Opcode.TEXT, join, mask=os.urandom(4)),
    )
    assert ws.status == 101
    assert json.loads(ws.next_event().data) == {
        "type": "joined",
        "room": room,
        "members": [alice.name],
    }
    ws.close()


@pytest.mark.parametrize(("close", "answer"), [((1004).to_bytes(2, "big"), 1002), (b"\x03", 1002),
                                                (close_payload(3000), 3000)])  # fmt: skip
def test_ws_answers_close_frames_as_the_rfc_says(server, people, close, answer):
    _, (alice,) = people(server, "alice")
    ws = RawWebSocket(server.url, "/ws", {"Authorization": f"Bearer {alice.token}"})
    ws.send_frame(Opcode.CLOSE, close)
    assert ws.recv_close_code() == answer
    ws.close()


def test_messages_come_back_as_they_went(echo_server, user):
    ws = open_echo(echo_server, user.token)
    ws.send_text("héllo")
    ws.send_frame(Opcode.BINARY, b"\x00\xff")
    ws.send_frame(Opcode.TEXT, b"frag", fin=False)
    ws.send_frame(Opcode.PING, b"between")
    ws.send_frame(Opcode.CONTINUATION, b"ments")
    assert [ws.next_event() for _ in range(4)] == [
        TextMessage("héllo".encode()),
        BinaryMessage(b"\x00\xff"),
        Pong(b"between"),
        TextMessage(b"fragments"),
    ]
    ws.send_frame(Opcode.CLOSE, close_payload(3000, "done"))
    assert ws.next_event() == Close(3000, "")
    assert ws.next_event() is None  # and the server hangs up
    ws.close()


def test_frames_sent_right_behind_the_upgrade_request_are_read(echo_server, user):
    early = frame(Opcode.TEXT, b"early", mask=os.urandom(4))
    ws = open_echo(echo_server, user.token, early=early)
    assert ws.next_event() == TextMessage(b"early")
    ws.close()


@pytest.mark.parametrize(
    ("close", "answer"),
    [
        (b"\x03", CloseCode.PROTOCOL_ERROR),  # a 1-byte payload
        ((999).to_bytes(2, "big"), CloseCode.PROTOCOL_ERROR),
        ((1005).to_bytes(2, "big"), CloseCode.PROTOCOL_ERROR),
        (close_payload(CloseCode.NORMAL) + b"\xff", CloseCode.INVALID_DATA),
        (close_payload(4999), 4999),
        (b"", CloseCode.NORMAL),
    ],
)
def test_close_frames_get_the_rfc_answer(echo_server, user, close, answer):
    ws = open_echo(echo_server, user.token)
    ws.send_frame(Opcode.CLOSE, close)
    assert ws.recv_close_code() == answer
    ws.close()


def test_the_limits_are_the_servers(echo_server, user):
    ws = open_echo(echo_server, user.token)
    ws.send_frame(Opcode.BINARY, b"x" * 65536)
    assert ws.next_event() == BinaryMessage(b"x" * 65536)
    ws.send_frame(Opcode.BINARY, b"x" * 65537)
    assert ws.recv_close_code() == CloseCode.MESSAGE_TOO_BIG
    ws.close()


def test_the_handshake_checks_are_those_of_ws(echo_server, user):
    refused = RawWebSocket(echo_server.url, "/ws/echo")
    assert refused.status == 401 and json.loads(refused.body)["error"] == "unauthorized"
    refused.close()
    foreign = RawWebSocket(
        echo_server.url, f"/ws/echo?token={user.token}", {"Origin": "http://evil.example"}
    )
    assert foreign.status == 403 and json.loads(foreign.body)["error"] == "forbidden"
    foreign.close()


def test_the_echo_is_off_unless_turned_on(server, people):
    _, (alice,) = people(server, "alice")
    ws = RawWebSocket(server.url, f"/ws/echo?token={alice.token}")
    body = json.loads(ws.body)
    assert ws.status == 404 and body["error"] == "not_found" and "WS_ECHO" in body["detail"]
    ws.close()
