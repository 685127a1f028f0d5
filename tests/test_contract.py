"""One contract, four transports: each test runs unchanged over every transport, against a
live server, with real HTTP and WebSocket clients."""

import time

import pytest
import requests
from clients import RECEIVERS, WebSocketReceiver
from conftest import BACKENDS, BEHIND_NGINX, either_server, either_server_factory

from chat_core import Transport

TRANSPORTS = list(Transport)


@pytest.fixture(params=TRANSPORTS, ids=[str(t) for t in TRANSPORTS])
def transport(request) -> Transport:
    return request.param


# every contract test runs against the memory backend, against 2 workers on Redis, and
# through nginx in front of two servers on Redis
SERVED = (*BACKENDS, BEHIND_NGINX)
server = pytest.fixture(params=SERVED, name="server")(either_server)
server_factory = pytest.fixture(params=SERVED, name="server_factory")(either_server_factory)


def test_send_then_receive(server, people, transport):
    room, (alice, bob) = people(server, "alice", "bob")
    receiver = RECEIVERS[transport](bob, bob.cursor)
    try:
        sent = [
            alice.say(room=room, text=f"hello {i}", cid=f"c{i}", ts=time.time()) for i in range(3)
        ]
        got = receiver.receive(3)
    finally:
        receiver.close()
    assert [m["id"] for m in got] == sent
    first = got[0]
    assert first["room"] == room and first["to"] is None
    assert first["from"] == alice.name and first["text"] == "hello 0" and first["cid"] == "c0"
    assert isinstance(first["at"], float) and isinstance(first["ts"], float)


def test_the_sender_comes_from_the_session_not_the_payload(server, people, transport):
    room, (alice, bob) = people(server, "alice", "bob")
    receiver = RECEIVERS[transport](bob, bob.cursor)
    try:
        alice.say(room=room, text="who am I", **{"from": bob.name})
        (got,) = receiver.receive(1)
    finally:
        receiver.close()
    assert got["from"] == alice.name


def test_resuming_from_a_cursor_brings_the_rest_without_doubles(server, people, transport):
    room, (alice, bob) = people(server, "alice", "bob")
    sent = [alice.say(room=room, text=f"m{i}") for i in range(6)]
    first = RECEIVERS[transport](bob, bob.cursor)
    try:
        early = first.receive(2)[:2]
    finally:
        first.close()
    resumed = RECEIVERS[transport](bob, early[-1]["id"])
    try:
        rest = resumed.receive(4)
    finally:
        resumed.close()
    assert [m["id"] for m in early + rest] == sent


def test_every_transport_delivers_the_same_messages_in_the_same_order(server, people):
    room, (alice, bob, carol) = people(server, "alice", "bob", "carol")
    receivers = [RECEIVERS[t](carol, carol.cursor) for t in TRANSPORTS]
    try:
        for i in range(5):
            alice.say(room=room, text=f"a{i}")
            bob.say(room=room, text=f"b{i}")
            alice.say(to=carol.name, text=f"private {i}")
        streams = [r.receive(15) for r in receivers]
    finally:
        for r in receivers:
            r.close()
    ids = [[m["id"] for m in stream] for stream in streams]
    assert len(ids[0]) == 15
    assert ids[0] == sorted(set(ids[0]))
    assert all(other == ids[0] for other in ids[1:])


def test_private_stays_private(server, people, transport):
    room, (alice, bob, carol) = people(server, "alice", "bob", "carol")
    receiver = RECEIVERS[transport](carol, carol.cursor)
    try:
        alice.say(to=bob.name, text="only for bob")
        fence = alice.say(room=room, text="fence")  # sent after: carol must see it alone
        got = receiver.receive(1)
    finally:
        receiver.close()
    assert [m["id"] for m in got] == [fence]
    history = carol.get(f"/api/rooms/{room}/messages").json()["messages"]
    assert "only for bob" not in [m["text"] for m in history]


def test_a_private_message_reaches_both_parties(server, people, transport):
    _, (alice, bob) = people(server, "alice", "bob")
    receivers = [RECEIVERS[transport](user, user.cursor) for user in (alice, bob)]
    try:
        sent = bob.say(to=alice.name, text="just us")
        got = [r.receive(1) for r in receivers]
    finally:
        for r in receivers:
            r.close()
    for (message,) in got:
        assert message["id"] == sent and message["to"] == alice.name and message["room"] is None


def test_a_repeated_cid_is_delivered_once(server, people, transport):
    room, (alice, bob) = people(server, "alice", "bob")
    receiver = RECEIVERS[transport](bob, bob.cursor)
    try:
        first = alice.send(room=room, text="once", cid="dup")
        repeat = alice.send(room=room, text="once", cid="dup")
        fence = alice.say(room=room, text="fence")
        got = receiver.receive(2, timeout=5)
    finally:
        receiver.close()
    assert first.status_code == 201 and repeat.status_code == 200
    assert repeat.json()["id"] == first.json()["id"]
    assert [m["id"] for m in got] == [first.json()["id"], fence]


def test_a_missing_since_means_from_now_on(server, people, transport):
    room, (alice, bob) = people(server, "alice", "bob")
    before = alice.say(room=room, text="before")
    if transport in (Transport.SHORT_POLL, Transport.LONG_POLL):
        path = "/api/poll" if transport is Transport.SHORT_POLL else "/api/longpoll"
        params = {} if transport is Transport.SHORT_POLL else {"timeout": "0.1"}
        answer = bob.get(path, params=params).json()
        assert answer == {"messages": [], "cursor": before}
        return
    receiver = RECEIVERS[transport](bob, None)
    try:
        after = alice.say(room=room, text="after")
        got = receiver.receive(1)
    finally:
        receiver.close()
    assert [m["id"] for m in got] == [after]


def test_a_stream_that_dropped_messages_reports_the_gap(server_factory, people, transport):
    server = server_factory(STREAM_RETENTION=5)
    room, (alice, bob) = people(server, "alice", "bob")
    sent = [alice.say(room=room, text=f"m{i}") for i in range(8)]
    receiver = RECEIVERS[transport](bob, bob.cursor)
    try:
        got = receiver.receive(5)
    finally:
        receiver.close()
    assert receiver.gaps == [sent[3]]
    assert [m["id"] for m in got] == sent[3:]


def test_sse_last_event_id_wins_over_since(server, people):
    room, (alice, bob) = people(server, "alice", "bob")
    sent = [alice.say(room=room, text=f"m{i}") for i in range(3)]
    response = bob.get(
        "/api/stream",
        params={"since": bob.cursor},
        headers={"Last-Event-ID": str(sent[1])},
        stream=True,
    )
    try:
        lines = response.iter_lines()
        ids = []
        while not ids:
            line = next(lines).decode()
            if line.startswith("id: "):
                ids.append(int(line[4:]))
    finally:
        response.close()
    assert ids == [sent[2]]


def test_a_long_poll_answers_empty_after_its_timeout(server, people):
    _, (bob,) = people(server, "bob")
    answer = bob.get("/api/longpoll", params={"since": bob.cursor, "timeout": "0.2"})
    assert answer.status_code == 200
    assert answer.json() == {"messages": [], "cursor": bob.cursor}


def test_a_long_poll_timeout_above_the_maximum_is_taken_as_the_maximum(server_factory, people):
    server = server_factory(LONG_POLL_MAX=0.3)
    _, (bob,) = people(server, "bob")
    answer = bob.get("/api/longpoll", params={"since": bob.cursor, "timeout": "3600"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["messages"] == []


def test_a_websocket_sends_joins_and_leaves_with_frames(server, people):
    room, (alice, bob) = people(server, "alice", "bob")
    ws = WebSocketReceiver(alice, alice.cursor)
    try:
        ws.send_frame(type="join", room=room)
        ws.send_frame(type="send", room=room, text="over ws", cid="w1")
        got = ws.receive(1)
        ws.send_frame(type="leave", room=room)
        got += ws.receive_until_frames(3)  # joined, ack, left: only now is alice out
        bob.say(room=room, text="alice has left")
        ws.send_frame(type="send", to=bob.name, text="fence", cid="w2")
        after = ws.receive(1)
        after += ws.receive_until_frames(4)  # the fence's ack may come after the fence
    finally:
        ws.close()
    kinds = [f["type"] for f in ws.frames]
    assert kinds == ["joined", "ack", "left", "ack"]
    assert ws.frames[0]["members"] == sorted([alice.name, bob.name])
    assert ws.frames[1] == {"type": "ack", "cid": "w1", "id": got[0]["id"]}
    assert [m["text"] for m in after] == ["fence"]


def test_logging_out_ends_open_streams(server, people, transport):
    _, (bob,) = people(server, "bob")
    receiver = RECEIVERS[transport](bob, bob.cursor)
    assert bob.http.delete(f"{server.url}/api/session", timeout=10).status_code == 204
    if transport is Transport.WEBSOCKET:
        import websocket

        receiver.ws.settimeout(10)
        opcode, frame = receiver.ws.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(frame[:2], "big") == 1000
    elif transport is Transport.SSE:
        assert list(receiver._lines) == [b"retry: 2000", b""]
    else:
        answer = bob.get("/api/poll", params={"since": 0})
        assert answer.status_code == 401
    receiver.close()
    again = requests.post(f"{server.url}/api/session", json={"name": bob.name}, timeout=10)
    assert again.status_code == 201


def test_an_idle_sse_stream_carries_ping_comments(server_factory, people):
    server = server_factory(SSE_PING=0.2)
    _, (bob,) = people(server, "bob")
    response = bob.get("/api/stream", params={"since": bob.cursor}, stream=True)
    try:
        lines = response.iter_lines(chunk_size=None)
        seen = [next(lines) for _ in range(4)]
    finally:
        response.close()
    assert seen == [b"retry: 2000", b"", b": ping", b""]
    assert response.headers["Content-Type"].startswith("text/event-stream")
