"""Bad input gets a clear error in the protocol's format and harms nobody else: after each
case, a bystander pair in another room still exchanges messages over a WebSocket."""

import json
import os
import socket
import struct

import pytest
import requests
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


def assert_error(answer: requests.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def error_frame(ws: RawWebSocket) -> dict:
    event = ws.next_event()
    assert isinstance(event, TextMessage)
    frame = json.loads(event.data)
    assert frame["type"] == "error" and frame["detail"]
    return frame


def open_ws(server, user: Api, **headers: str) -> RawWebSocket:
    return RawWebSocket(server.url, "/ws", {"Authorization": f"Bearer {user.token}", **headers})


# -- HTTP bodies ------------------------------------------------------------------------------


def test_malformed_json_is_bad_json(server, people, bystanders):
    room, (alice,) = people(server, "alice")
    answer = alice.http.post(
        f"{server.url}/api/messages", data=b'{"room": "x", "text": ', timeout=10
    )
    assert_error(answer, 400, "bad_json")
    answer = requests.post(f"{server.url}/api/session", data=b"\xff\xfe{", timeout=10)
    assert_error(answer, 400, "bad_json")
    bystanders.check()


@pytest.mark.parametrize(
    "body",
    [
        {"room": "ROOM", "text": 42},
        {"room": ["ROOM"], "text": "x"},
        {"room": "ROOM", "to": "someone", "text": "x"},
        {"text": "no target"},
        {"room": "ROOM", "text": "x", "ts": "noon"},
        ["ROOM", "x"],
        "just a string",
    ],
)
def test_wrong_types_and_shapes_are_bad_requests(server, people, bystanders, body):
    room, (alice,) = people(server, "alice")
    body = json.loads(json.dumps(body).replace("ROOM", room))
    assert_error(alice.send_json(body), 400, "bad_request")
    bystanders.check()


def test_oversize_text_and_oversize_bodies_are_too_large(server, people, bystanders):
    room, (alice,) = people(server, "alice")
    assert_error(alice.send(room=room, text="x" * 4097), 413, "too_large")
    assert alice.send(room=room, text="x" * 4096).status_code == 201
    huge = b'{"room": "%s", "text": "' % room.encode() + b"x" * 70_000 + b'"}'
    answer = alice.http.post(f"{server.url}/api/messages", data=huge, timeout=10)
    assert_error(answer, 413, "too_large")
    bystanders.check()


def test_unknown_room_and_unknown_user(server, people, bystanders):
    room, (alice,) = people(server, "alice")
    assert_error(alice.send(room="never-was", text="x"), 404, "not_found")
    assert_error(alice.send(to="nobody-by-this-name", text="x"), 404, "no_such_user")
    assert_error(alice.get("/api/rooms/never-was/messages"), 404, "not_found")
    bystanders.check()


def test_room_rules_for_outsiders(server, people, bystanders):
    room, (alice, outsider) = people(server, "alice", "outsider")
    outsider.post(f"/api/rooms/{room}/leave")
    assert_error(outsider.send(room=room, text="x"), 403, "forbidden")
    assert_error(outsider.get(f"/api/rooms/{room}/messages"), 403, "forbidden")
    assert outsider.post(f"/api/rooms/{room}/leave").status_code == 200
    assert_error(outsider.post("/api/rooms/bad name!/join"), 400, "bad_request")
    bystanders.check()


@pytest.mark.parametrize("limit", ["0", "201", "ten", "-1"])
def test_a_bad_history_limit_is_a_bad_request(server, people, limit):
    room, (alice,) = people(server, "alice")
    assert_error(
        alice.get(f"/api/rooms/{room}/messages", params={"limit": limit}), 400, "bad_request"
    )


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "99999999999"])
def test_a_bad_cursor_is_a_bad_request_on_every_transport(server, people, since):
    _, (alice,) = people(server, "alice")
    for path in ("/api/poll", "/api/longpoll", "/api/stream"):
        assert_error(alice.get(path, params={"since": since}), 400, "bad_request")
    ws = RawWebSocket(server.url, f"/ws?since={since}", {"Authorization": f"Bearer {alice.token}"})
    assert ws.status == 400 and json.loads(ws.body)["error"] == "bad_request"
    ws.close()


def test_a_long_poll_timeout_that_is_not_a_number_is_a_bad_request(server, people):
    _, (alice,) = people(server, "alice")
    for timeout in ("soon", "nan", "-5"):
        answer = alice.get("/api/longpoll", params={"timeout": timeout})
        assert_error(answer, 400, "bad_request")


def test_an_unknown_endpoint_is_not_found_in_the_error_format(server):
    assert_error(requests.get(f"{server.url}/api/nothing-here", timeout=10), 404, "not_found")


def test_a_plain_get_on_the_websocket_endpoint_says_what_it_wants(server, people):
    _, (alice,) = people(server, "alice")
    answer = alice.get("/ws")
    assert_error(answer, 400, "bad_request")
    assert "WebSocket" in answer.json()["detail"]


# -- who may connect --------------------------------------------------------------------------


def test_missing_forged_or_malformed_credentials_are_unauthorized(server, people, bystanders):
    room, (alice,) = people(server, "alice")
    url = f"{server.url}/api/messages"
    body = {"room": room, "text": "x"}
    assert_error(requests.post(url, json=body, timeout=10), 401, "unauthorized")
    forged = {"Authorization": "Bearer not-a-real-token"}
    assert_error(requests.post(url, json=body, headers=forged, timeout=10), 401, "unauthorized")
    basic = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    assert_error(requests.post(url, json=body, headers=basic, timeout=10), 401, "unauthorized")
    # a bad header is not rescued by a good ?token
    answer = requests.post(
        url, json=body, headers=forged, params={"token": alice.token}, timeout=10
    )
    assert_error(answer, 401, "unauthorized")
    answer = requests.post(url, json=body, params={"token": alice.token}, timeout=10)
    assert answer.status_code == 201
    bystanders.check()


def test_streams_without_a_session_are_refused_at_the_handshake(server, bystanders):
    assert_error(requests.get(f"{server.url}/api/stream", timeout=10), 401, "unauthorized")
    ws = RawWebSocket(server.url, "/ws")
    assert ws.status == 401 and "upgrade" not in ws.headers
    assert json.loads(ws.body)["error"] == "unauthorized"
    ws.close()
    ws = RawWebSocket(server.url, "/ws?token=forged")
    assert ws.status == 401
    ws.close()
    bystanders.check()


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_cross_site_requests_are_refused_before_the_session_is_checked(
    server, people, bystanders, origin
):
    room, (alice,) = people(server, "alice")
    foreign = {"Origin": origin}
    assert_error(alice.send_json({"room": room, "text": "x"}, headers=foreign), 403, "forbidden")
    answer = requests.post(f"{server.url}/api/messages", json={}, headers=foreign, timeout=10)
    assert_error(answer, 403, "forbidden")  # 403, not 401: origin first
    assert_error(alice.get("/api/stream", headers=foreign), 403, "forbidden")
    ws = open_ws(server, alice, Origin=origin)
    assert ws.status == 403 and json.loads(ws.body)["error"] == "forbidden"
    ws.close()
    bystanders.check()


def test_same_origin_and_origin_less_requests_are_welcome(server, people):
    room, (alice,) = people(server, "alice")
    own = {"Origin": server.url}
    assert alice.send_json({"room": room, "text": "x"}, headers=own).status_code == 201
    ws = open_ws(server, alice, Origin=server.url)
    assert ws.status == 101
    ws.close()
    # reading is not state-changing: a foreign page may not stream, but a plain poll is harmless
    assert alice.get("/api/poll", headers={"Origin": "http://evil.example"}).status_code == 200


def test_a_cookie_session_works_for_browsers(server):
    http = requests.Session()
    name = f"cookie{id(http) % 100000}"
    assert (
        http.post(f"{server.url}/api/session", json={"name": name}, timeout=10).status_code == 201
    )
    answer = http.get(f"{server.url}/api/session", timeout=10)
    assert answer.status_code == 200 and answer.json()["name"] == name
    http.close()


# -- floods -----------------------------------------------------------------------------------


def test_a_flood_is_rate_limited_and_nothing_refused_is_accepted(server, people, bystanders):
    room, (alice, bob) = people(server, "alice", "bob")
    answers = [alice.send(room=room, text=f"m{i}") for i in range(60)]
    accepted = [a for a in answers if a.status_code == 201]
    limited = [a for a in answers if a.status_code == 429]
    assert len(accepted) + len(limited) == 60
    assert len(accepted) >= 40 and limited
    assert_error(limited[0], 429, "rate_limited")
    assert int(limited[0].headers["Retry-After"]) >= 1
    history = bob.get(f"/api/rooms/{room}/messages", params={"limit": 200}).json()["messages"]
    assert sorted(m["id"] for m in history) == sorted(a.json()["id"] for a in accepted)
    bystanders.check()


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
