"""Forgetting (docs/PROTOCOL.md, "Rooms" and "Identity"): a room without members is forgotten
after its grace, its memory given back; an ended session's connections end, and nothing read
on them afterwards acts, least of all on the name's next holder."""

import concurrent.futures
import json
import threading
import time
from typing import Any

import pytest
import requests
from clients import Api, SseReceiver, unique
from raw_ws import RawWebSocket

from chat_core import Chat, ChatError, Limits
from wire.websocket import Close


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(code: str, call, *args: Any) -> ChatError:
    with pytest.raises(ChatError) as info:
        call(*args)
    assert info.value.code == code, info.value.detail
    return info.value


# -- the core -------------------------------------------------------------------------------


def test_a_room_empty_past_its_grace_is_forgotten_with_its_history():
    clock = Clock()
    chat = Chat(Limits(room_grace=60, max_rooms_per_client=1), clock=clock)
    alice, reader = chat.login("alice"), chat.login("reader")
    chat.join(alice, "lobby")
    chat.send(alice, {"room": "lobby", "text": "before"})
    chat.leave(alice, "lobby")
    clock.now += 59
    assert chat.forget_empty_rooms() == []
    refused("forbidden", chat.history, reader, "lobby")  # it exists still
    clock.now += 2
    assert chat.forget_empty_rooms() == ["lobby"]
    refused("not_found", chat.history, reader, "lobby")
    refused("not_found", chat.send, reader, {"room": "lobby", "text": "x"})
    # a later join makes it afresh, empty; and the address's room count was given back
    assert chat.join(reader, "lobby") == ("lobby", ["reader"])
    assert chat.history(reader, "lobby") == []


def test_a_room_with_a_member_or_rejoined_within_its_grace_is_kept():
    clock = Clock()
    chat = Chat(Limits(room_grace=60), clock=clock)
    alice, bob = chat.login("alice"), chat.login("bob")
    chat.join(alice, "kept")
    chat.join(alice, "rejoined")
    chat.send(alice, {"room": "rejoined", "text": "still here"})
    chat.leave(alice, "rejoined")
    clock.now += 30
    chat.join(bob, "rejoined")
    chat.leave(bob, "rejoined")  # empty again, its grace starts again
    clock.now += 45
    assert chat.forget_empty_rooms() == []
    chat.join(bob, "rejoined")
    assert [m.text for m in chat.history(bob, "rejoined")] == ["still here"]
    clock.now += 10_000
    assert chat.forget_empty_rooms() == []  # both have a member


def test_a_forgotten_room_frees_its_name_for_lookalikes():
    clock = Clock()
    chat = Chat(Limits(room_grace=1), clock=clock)
    alice = chat.login("alice")
    chat.join(alice, "lobby")
    refused("bad_request", chat.join, alice, "Iobby")
    chat.leave(alice, "lobby")
    clock.now += 2
    chat.forget_empty_rooms()
    assert chat.join(alice, "Iobby")[0] == "Iobby"


def test_ending_a_session_empties_its_rooms_and_they_are_forgotten_in_turn():
    clock = Clock()
    chat = Chat(Limits(room_grace=10, session_expiry=100), clock=clock)
    alice, bob = chat.login("alice"), chat.login("bob")
    chat.join(alice, "a")
    chat.join(bob, "b")
    chat.logout(alice)
    clock.now += 11
    assert chat.forget_empty_rooms() == ["a"]
    clock.now += 100
    assert chat.expire_idle() == ["bob"]
    clock.now += 11
    assert chat.forget_empty_rooms() == ["b"]


def test_idle_expiry_ends_the_longest_idle_first_spares_streams_and_stops_at_its_batch():
    clock = Clock()
    chat = Chat(Limits(session_expiry=100, max_sessions_per_client=100), clock=clock)
    users = [chat.login(f"u{i}") for i in range(10)]
    streaming = users[0]
    chat.stream_opened(streaming)
    clock.now += 50
    chat.authenticate(users[1].token)  # seen: its idle time starts again
    clock.now += 60
    assert chat.expire_idle(at_most=3) == ["u2", "u3", "u4"]
    assert chat.expire_idle() == [f"u{i}" for i in range(5, 10)]
    assert not streaming.ended and not users[1].ended
    clock.now += 50
    assert chat.expire_idle() == ["u1"]
    assert chat.expire_idle() == []  # the streaming session was seen at the last look


def test_an_ended_session_acts_no_more_and_never_on_its_names_next_holder():
    chat = Chat()
    old = chat.login("alice")
    chat.join(old, "lobby")
    chat.logout(old)
    new = chat.login("alice")
    chat.join(new, "lobby")
    for call, args in [
        (chat.leave, ("lobby",)),
        (chat.join, ("other",)),
        (chat.send, ({"room": "lobby", "text": "ghost"},)),
        (chat.members, ("lobby",)),
        (chat.history, ("lobby",)),
    ]:
        refused("unauthorized", call, old, *args)
    assert chat.members(new, "lobby") == ("lobby", ["alice"])
    assert chat.rooms() == [("lobby", 1)]
    assert chat.history(new, "lobby") == []


# -- a real server --------------------------------------------------------------------------


def rss_mib(server) -> float:
    return server.metrics()["process"]["rss_bytes"] / 2**20


def test_room_histories_nobody_holds_are_forgotten_and_the_memory_comes_back(server_factory):
    """Issue 9's probe, smaller: senders fill rooms of their own with 4,096-character messages
    and log out; the histories stay through the grace period, then go, and the server's
    resident memory comes back (measured: +35 MiB filled, 3.8 MiB of it left after)."""
    senders, messages, grace = 100, 40, 6.0
    server = server_factory(ROOM_GRACE=grace, HOUSEKEEPING_INTERVAL=0.2, RATE_PER_SECOND=10_000,
                            RATE_BURST=10_000, MAX_SESSIONS_PER_CLIENT=senders + 10,
                            MAX_ROOMS_PER_CLIENT=senders + 10)  # fmt: skip
    text = "x" * 4096

    def fill(i: int) -> Api:
        user = Api(server.url, f"s{i}")
        user.join(f"r{i}")
        for _ in range(messages):
            user.say(room=f"r{i}", text=text)
        return user

    before = rss_mib(server)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        users = list(pool.map(fill, range(senders)))
    for user in users:
        assert user.http.delete(f"{server.url}/api/session", timeout=10).status_code == 204
        user.close()
    filled = rss_mib(server)
    observer = Api(server.url, "observer")
    last_room = f"/api/rooms/r{senders - 1}/messages"
    # the logouts took far less than the grace: every room is still there, history and all
    assert observer.get(last_room).status_code == 403
    deadline = time.monotonic() + grace + 20
    while observer.get(last_room).status_code != 404:
        assert time.monotonic() < deadline, "the rooms were never forgotten"
        time.sleep(0.2)
    assert observer.get("/api/rooms/r0/messages").status_code == 404
    after = rss_mib(server)
    grown = filled - before
    assert grown > 20, f"filling grew the server by {grown:.1f} MiB only"
    assert after - before < 0.35 * grown, (before, filled, after)
    # and a room made afresh has an empty history
    observer.join("r0")
    assert observer.get("/api/rooms/r0/messages").json() == {"messages": []}


def test_logging_out_ends_a_sessions_websocket_sse_stream_and_long_poll_at_once(server):
    user = Api(server.url, unique("leaver"))
    ws = RawWebSocket(server.url, f"/ws?token={user.token}")
    assert ws.status == 101
    sse = SseReceiver(user, user.cursor)
    poll: dict[str, Any] = {}

    def long_poll() -> None:
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {user.token}"}
        url = f"{server.url}/api/longpoll"
        answer = requests.get(url, params={"timeout": 50}, headers=headers, timeout=60)
        poll.update(status=answer.status_code, seconds=time.monotonic() - started)

    poller = threading.Thread(target=long_poll)
    poller.start()
    deadline = time.monotonic() + 10
    while server.metrics()["transports"]["long_poll"]["open"] < 1:
        assert time.monotonic() < deadline, "the long poll never opened"
        time.sleep(0.02)
    assert user.http.delete(f"{server.url}/api/session", timeout=10).status_code == 204
    poller.join(20)
    assert poll["status"] == 401 and poll["seconds"] < 45  # ended, not timed out
    assert ws.recv_close_code() == 1000
    assert list(sse._lines) == [b"retry: 2000", b""]  # the stream ended
    ws.close()
    sse.close()


def test_a_leave_read_after_logout_does_not_remove_the_names_next_holder(server_factory):
    """Issue 9: the old WebSocket is still read while its close completes; its `leave` once
    removed the next holder of the name from the room."""
    server = server_factory(CLOSE_TIMEOUT=10.0)  # time enough to send frames after the logout
    room, name = unique("room"), unique("alice")
    old = Api(server.url, name)
    old.join(room)
    ws = RawWebSocket(server.url, f"/ws?token={old.token}")
    assert ws.status == 101
    assert old.http.delete(f"{server.url}/api/session", timeout=10).status_code == 204
    close = ws.next_event()
    assert isinstance(close, Close) and close.code == 1000  # the server closed; we do not yet
    new = Api(server.url, name)
    new.join(room)
    for frame in ({"type": "leave", "room": room}, {"type": "join", "room": unique("x")},
                  {"type": "send", "room": room, "text": "ghost"}):  # fmt: skip
        ws.send_text(json.dumps(frame))
    ws.send(ws.endpoint.close(1000))
    assert ws.next_event() is None  # the server hangs up once it has read all before our close
    ws.close()
    members = new.get(f"/api/rooms/{room}/members").json()["members"]
    assert members == [name]
    assert new.get(f"/api/rooms/{room}/messages").json() == {"messages": []}
    assert [r["room"] for r in new.get("/api/rooms").json()["rooms"]].count(room) == 1
