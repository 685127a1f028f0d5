"""Bad input that only a real socket shows: WebSocket handshakes and frames, a flood on one
connection, clients that vanish. Each gets a clear error in the protocol's format (an error
frame, a close code, an HTTP error before the 101) and harms nobody else: after each case, a
bystander pair in another room still exchanges messages over a WebSocket. The rest of the
bad-input cases need no socket and run on the app itself (test_bad_input.py)."""

import json
import os
import socket
import struct

import pytest
from clients import Api, WebSocketReceiver
from raw_ws import RawWebSocket

from wire.websocket import CloseCode, Opcode, TextMessage, close_payload, frame_header


@pytest.fixture
def bystanders(server, people):
    """Two users chatting elsewhere; `check()` proves the server still serves them."""
    room, (speaker, listener) = people(server, "speaker", "listener")
    receiver = WebSocketReceiver(listener, listener.cursor)

    class Bystanders:
        def check(self) -> None:
            sent = speaker.say(room=room, text="still there?")
            got = receiver.receive(1)
            assert [m["id"] for m in got] == [sent]

    yield Bystanders()
    receiver.close()


def error_frame(ws: RawWebSocket) -> dict:
    event = ws.next_event()
    assert isinstance(event, TextMessage)
    frame = json.loads(event.data)
    assert frame["type"] == "error" and frame["detail"]
    return frame


def open_ws(server, user: Api, **headers: str) -> RawWebSocket:
    return RawWebSocket(server.url, "/ws", {"Authorization": f"Bearer {user.token}", **headers})


# -- handshakes -------------------------------------------------------------------------------


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "99999999999"])
def test_a_bad_cursor_is_refused_at_the_websocket_handshake(server, people, since):
    _, (alice,) = people(server, "alice")
    ws = RawWebSocket(server.url, f"/ws?since={since}", {"Authorization": f"Bearer {alice.token}"})
    assert ws.status == 400 and json.loads(ws.body)["error"] == "bad_request"
    ws.close()


def test_a_websocket_without_a_session_is_refused_at_the_handshake(server, bystanders):
    ws = RawWebSocket(server.url, "/ws")
    assert ws.status == 401 and "upgrade" not in ws.headers
    assert json.loads(ws.body)["error"] == "unauthorized"
    ws.close()
    ws = RawWebSocket(server.url, "/ws?token=forged")
    assert ws.status == 401
    ws.close()
    bystanders.check()


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_a_cross_site_websocket_is_refused_at_the_handshake(server, people, bystanders, origin):
    _, (alice,) = people(server, "alice")
    ws = open_ws(server, alice, Origin=origin)
    assert ws.status == 403 and json.loads(ws.body)["error"] == "forbidden"
    ws.close()
    bystanders.check()


def test_a_same_origin_websocket_is_welcome(server, people):
    _, (alice,) = people(server, "alice")
    ws = open_ws(server, alice, Origin=server.url)
    assert ws.status == 101
    ws.close()


# -- floods -----------------------------------------------------------------------------------


def test_a_websocket_flood_gets_error_frames_with_its_cids(server, people, bystanders):
    room, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    for i in range(60):
        ws.send_text(json.dumps({"type": "send", "room": room, "text": "x", "cid": f"f{i}"}))
    answers = []
    while len(answers) < 60:
        frame = json.loads(ws.next_event().data)
        if frame["type"] in ("ack", "error"):
            answers.append(frame)
    ws.close()
    errors = [a for a in answers if a["type"] == "error"]
    assert errors and all(e["error"] == "rate_limited" for e in errors)
    assert {a["cid"] for a in answers} == {f"f{i}" for i in range(60)}
    bystanders.check()


# -- WebSocket frames -------------------------------------------------------------------------


def test_bad_frames_get_error_frames_and_the_connection_stays_open(server, people, bystanders):
    room, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    ws.send_text("{not json")
    assert error_frame(ws)["error"] == "bad_json"
    ws.send_text('["a", "list"]')
    assert error_frame(ws)["error"] == "bad_request"
    ws.send_text('{"type": "dance", "cid": "d1"}')
    frame = error_frame(ws)
    assert frame["error"] == "bad_request" and frame["cid"] == "d1"
    ws.send_text(json.dumps({"type": "send", "room": "nowhere-at-all", "text": "x", "cid": "n1"}))
    assert error_frame(ws) | {"detail": ""} == {
        "type": "error",
        "error": "not_found",
        "detail": "",
        "cid": "n1",
    }
    ws.send_frame(Opcode.BINARY, b"\x00\x01")
    assert error_frame(ws)["error"] == "bad_request"
    ws.send_text(json.dumps({"type": "send", "room": room, "text": "fine", "cid": "ok"}))
    kinds = []
    while "ack" not in kinds:
        kinds.append(json.loads(ws.next_event().data)["type"])
    ws.close()
    bystanders.check()


def test_a_message_of_exactly_64_kib_is_read_and_one_byte_more_closes_with_1009(
    server, people, bystanders
):
    room, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    prefix = json.dumps({"type": "send", "room": room, "cid": "big", "text": ""})[:-2]
    exact = prefix + "x" * (65536 - len(prefix) - 2) + '"}'
    assert len(exact.encode()) == 65536
    ws.send_text(exact)
    assert error_frame(ws)["error"] == "too_large"  # read and answered: the text is too long
    ws.send_text(exact + " ")
    assert ws.recv_close_code() == CloseCode.MESSAGE_TOO_BIG
    ws.close()
    bystanders.check()


def test_fragments_count_together_toward_the_limit(server, people, bystanders):
    _, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    ws.send_frame(Opcode.TEXT, b"x" * 40_000, fin=False)
    ws.send_frame(Opcode.CONTINUATION, b"x" * 40_000)
    assert ws.recv_close_code() == CloseCode.MESSAGE_TOO_BIG
    ws.close()
    bystanders.check()


def test_a_header_announcing_a_terabyte_is_refused_before_any_payload(server, people, bystanders):
    _, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    ws.send(frame_header(Opcode.TEXT, 1 << 40, mask=os.urandom(4)))  # and not a byte more
    assert ws.recv_close_code() == CloseCode.MESSAGE_TOO_BIG
    ws.close()
    bystanders.check()


def test_invalid_utf8_closes_with_1007(server, people, bystanders):
    _, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    ws.send_frame(Opcode.TEXT, b'{"type": "send", "text": "\xff\xfe"}')
    assert ws.recv_close_code() == CloseCode.INVALID_DATA
    ws.close()
    bystanders.check()


def test_a_clean_close_is_answered_with_the_same_code(server, people):
    _, (alice,) = people(server, "alice")
    ws = open_ws(server, alice)
    ws.send_frame(Opcode.CLOSE, close_payload(CloseCode.GOING_AWAY, "going away"))
    assert ws.recv_close_code() == CloseCode.GOING_AWAY
    ws.close()


# -- clients that vanish ----------------------------------------------------------------------


def test_clients_that_vanish_mid_stream_harm_nobody(server, people, bystanders):
    room, (alice, bob) = people(server, "alice", "bob")
    sse = bob.get("/api/stream", params={"since": bob.cursor}, stream=True)
    ws = open_ws(server, bob)
    abrupt = open_ws(server, bob)
    abrupt.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    waiting = socket.create_connection(("127.0.0.1", server.port))
    waiting.sendall(
        f"GET /api/longpoll?since={bob.cursor}&timeout=30 HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {bob.token}\r\n\r\n".encode()
    )
    for i in range(3):
        alice.say(room=room, text=f"before vanishing {i}")
    sse.close()
    ws.close()
    abrupt.close()  # RST
    waiting.close()
    for i in range(3):
        alice.say(room=room, text=f"after vanishing {i}")
    bystanders.check()
    assert server.alive()
