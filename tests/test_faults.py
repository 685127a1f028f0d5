"""Every fault that breaks the teaching document's own server (GOTCHAS.md, last section),
reproduced against chatlab: each test shows chatlab surviving it."""

import json
import socket
import struct
import threading

import pytest
import requests
from clients import RECEIVERS, WebSocketReceiver
from conftest import BACKENDS, either_server, either_server_factory
from raw_ws import RawWebSocket

from chat_core import Transport
from wire.websocket import Close, CloseCode, TextMessage

# every test with a server runs against the memory backend and against Redis
server = pytest.fixture(params=BACKENDS, name="server")(either_server)
server_factory = pytest.fixture(params=BACKENDS, name="server_factory")(either_server_factory)

BIG_CONFIG = {
    "MAX_TEXT": 4_000_000,
    "MAX_CONTENT_LENGTH": 9_000_000,
    "RATE_PER_SECOND": 1000,
    "RATE_BURST": 1000,
}


def stalled_websocket(server, user, since: int) -> RawWebSocket:
    """A WebSocket whose reader never reads: a tiny receive buffer, and nobody calling recv."""
    return RawWebSocket(
        server.url, f"/ws?since={since}", {"Authorization": f"Bearer {user.token}"}, rcvbuf=65536
    )


def read_messages_until_closed(ws: RawWebSocket) -> tuple[list[int], int | None]:
    """Every complete frame must be a well-formed message frame (the stream is never
    corrupted); returns the ids read and the close code (None if the server hung up)."""
    ids: list[int] = []
    for _ in range(100_000):
        event = ws.next_event()
        if event is None:
            return ids, None
        if isinstance(event, Close):
            return ids, event.code
        assert isinstance(event, TextMessage)
        body = json.loads(event.data)
        assert body["type"] == "message"
        ids.append(body["message"]["id"])
    raise AssertionError("more frames than were ever sent")


def test_a_client_that_never_reads_slows_nobody_and_resumes_without_loss(server_factory, people):
    server = server_factory(
        **BIG_CONFIG, SEND_QUEUE=20, HOUSEKEEPING_INTERVAL=0.2, STREAM_RETENTION=1000
    )
    room, (alice, bob, carol, dave) = people(server, "alice", "bob", "carol", "dave")
    watchers = [
        RECEIVERS[Transport.WEBSOCKET](bob, bob.cursor),
        RECEIVERS[Transport.SSE](carol, carol.cursor),
    ]
    sleeper = stalled_websocket(server, dave, dave.cursor)
    received: dict[int, list[int]] = {}

    def watch(index: int) -> None:
        received[index] = [m["id"] for m in watchers[index].receive(300, timeout=120)]

    readers = [threading.Thread(target=watch, args=(i,)) for i in range(len(watchers))]
    for reader in readers:
        reader.start()
    text = "z" * 50_000
    sent = [alice.say(room=room, text=f"{i}:{text}") for i in range(300)]  # ~15 MB to dave
    for reader in readers:
        reader.join(timeout=150)
    for watcher in watchers:
        watcher.close()
    # complete and in order for everyone else, however long dave sleeps
    assert [received.get(i) for i in range(len(watchers))] == [sent] * len(watchers)
    early, code = read_messages_until_closed(sleeper)
    sleeper.close()
    # cut off: blocked mid-write (None) or told to come back (1013)
    assert code in (None, CloseCode.TRY_AGAIN_LATER)
    assert early == sent[: len(early)] and len(early) < len(sent)
    resumed = WebSocketReceiver(dave, early[-1] if early else dave.cursor)
    try:
        rest = resumed.receive(len(sent) - len(early), timeout=60)
    finally:
        resumed.close()
    assert early + [m["id"] for m in rest] == sent
    assert server.alive()


def test_a_consumer_too_slow_for_its_queue_is_closed_with_1013_and_resumes(server_factory, people):
    server = server_factory(SEND_QUEUE=5, WRITE_BATCH=10, RATE_PER_SECOND=1000, RATE_BURST=1000)
    room, (alice, bob) = people(server, "alice", "bob")
    sent = [alice.say(room=room, text=f"m{i}") for i in range(50)]
    received: list[int] = []
    codes = []
    for _ in range(20):  # each connection gets a batch, then is told it is too far behind
        ws = RawWebSocket(
            server.url,
            f"/ws?since={received[-1] if received else bob.cursor}",
            {"Authorization": f"Bearer {bob.token}"},
        )
        ids, code = read_messages_until_closed(ws)
        ws.close()
        received.extend(ids)
        codes.append(code)
        if received == sent:
            break
    assert received == sent
    assert CloseCode.TRY_AGAIN_LATER in codes


def test_a_recipient_vanishing_while_a_4_mb_message_is_in_flight_does_not_abort_the_server(
    server_factory, people
):
    server = server_factory(**BIG_CONFIG)
    room, (alice, bob, carol) = people(server, "alice", "bob", "carol")
    watcher = WebSocketReceiver(carol, carol.cursor)
    big = "x" * 4_000_000
    try:
        # Three ways to vanish mid-write: a reset; a close with unread bytes (Linux resets
        # too); a FIN with the bytes left unread, the one that aborted gevent 26.9.0 (libev
        # "invalid fd found in epoll_ctl") under a server writing from the sender's greenlet.
        for round_ in range(9):
            victim = stalled_websocket(server, bob, bob.cursor)
            sent = alice.say(room=room, text=big)
            victim.sock.recv(1000)  # the message is on its way
            if round_ % 3 == 0:
                victim.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if round_ % 3 == 2:
                victim.sock.shutdown(socket.SHUT_WR)
            else:
                victim.close()
            (got,) = watcher.receive(1, timeout=60)
            assert got["id"] == sent
            victim.close()
            bob.cursor = sent
    finally:
        watcher.close()
    assert server.alive()
    assert requests.get(f"{server.url}/healthz", timeout=10).json() == {"ok": True}
    log = server.stderr()
    assert "Traceback" not in log and "epoll" not in log


def test_a_name_taken_twice_is_refused_and_the_holder_keeps_it(server, people):
    room, (alice, bob) = people(server, "alice", "bob")
    twice = requests.post(f"{server.url}/api/session", json={"name": alice.name}, timeout=10)
    assert twice.status_code == 409 and twice.json()["error"] == "name_taken"
    receiver = WebSocketReceiver(bob, bob.cursor)
    try:
        sent = alice.say(room=room, text="still me")
        (got,) = receiver.receive(1)
    finally:
        receiver.close()
    assert got["id"] == sent and got["from"] == alice.name


def test_a_message_to_an_unknown_user_is_refused_and_nobody_else_notices(server, people):
    room, (alice, bob) = people(server, "alice", "bob")
    receiver = WebSocketReceiver(bob, bob.cursor)
    try:
        ws = WebSocketReceiver(alice, alice.cursor)
        ws.send_frame(type="send", to="ghost-of-nobody", text="boo", cid="g1")
        ws.send_frame(type="send", room=room, text="after the ghost", cid="g2")
        ws.receive(1)
        ws.close()
        answer = alice.send(to="ghost-of-nobody", text="boo")
        (got,) = receiver.receive(1)
    finally:
        receiver.close()
    assert answer.status_code == 404 and answer.json()["error"] == "no_such_user"
    assert [f for f in ws.frames if f["type"] == "error"] == [
        {
            "type": "error",
            "error": "no_such_user",
            "detail": "There is no user named 'ghost-of-nobody'.",
            "cid": "g1",
        }
    ]
    assert got["text"] == "after the ghost"


def test_dead_connections_never_make_later_senders_fail(server, people):
    room, (alice, bob, carol) = people(server, "alice", "bob", "carol")
    for _ in range(3):
        gone = RawWebSocket(server.url, "/ws", {"Authorization": f"Bearer {bob.token}"})
        gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        gone.close()
    receiver = WebSocketReceiver(carol, carol.cursor)
    try:
        sent = [alice.say(room=room, text=f"m{i}") for i in range(10)]
        got = receiver.receive(10)
    finally:
        receiver.close()
    assert [m["id"] for m in got] == sent


def test_replies_and_fan_out_on_one_socket_never_interleave(server_factory, people):
    server = server_factory(RATE_PER_SECOND=10_000, RATE_BURST=10_000)
    room, (alice, bob) = people(server, "alice", "bob")
    ws = RawWebSocket(
        server.url, f"/ws?since={bob.cursor}", {"Authorization": f"Bearer {bob.token}"}
    )
    count = 300

    def alice_floods() -> None:
        for i in range(count):
            alice.say(room=room, text=f"a{i}" * 50)

    flood = threading.Thread(target=alice_floods)
    flood.start()
    for i in range(count):
        ws.send_text(
            json.dumps({"type": "send", "room": room, "text": f"b{i}" * 50, "cid": f"b{i}"})
        )
    acks, messages = set(), []
    while len(acks) < count or len(messages) < 2 * count:
        frame = json.loads(ws.next_event().data)  # a corrupted or interleaved frame would not parse
        if frame["type"] == "ack":
            acks.add(frame["cid"])
        else:
            assert frame["type"] == "message"
            messages.append(frame["message"]["id"])
    flood.join()
    ws.close()
    assert acks == {f"b{i}" for i in range(count)}
    assert messages == sorted(set(messages))
