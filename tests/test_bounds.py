"""Bounds on what a client can make the server keep (docs/PROTOCOL.md: sessions and rooms per
address and in all, rooms per session, streams per session): each refusal is
`429 limit_reached` in the error format, names its setting, and harms nobody else."""

import http.client
import json
import threading
import time
from typing import Any

import pytest
import requests
from clients import Api, unique
from raw_ws import RawWebSocket

from chat_core import Chat, ChatError, Limits

DEFAULTS = Limits()


def refusal(call, *args: Any, **kwargs: Any) -> ChatError:
    with pytest.raises(ChatError) as info:
        call(*args, **kwargs)
    return info.value


# -- the core -------------------------------------------------------------------------------


def test_logins_past_an_addresss_bound_are_refused_and_other_addresses_are_not():
    chat = Chat(Limits(max_sessions_per_client=3, max_sessions=5))
    held = [chat.login(f"a{i}", client="10.0.0.1") for i in range(3)]
    error = refusal(chat.login, "a3", client="10.0.0.1")
    assert (error.code, error.status) == ("limit_reached", 429)
    assert "MAX_SESSIONS_PER_CLIENT" in error.detail
    chat.login("b0", client="10.0.0.2")
    chat.login("b1", client="10.0.0.2")
    error = refusal(chat.login, "c0", client="10.0.0.3")  # 5 in all
    assert error.code == "limit_reached" and "MAX_SESSIONS" in error.detail
    chat.logout(held[0])
    assert chat.login("a3", client="10.0.0.1").name == "a3"  # a place freed is a place again


def test_rooms_past_their_bounds_are_refused_but_joining_a_room_one_is_in_never_is():
    chat = Chat(Limits(max_rooms_per_client=2, max_rooms=3, max_rooms_per_session=3))
    alice = chat.login("alice", client="10.0.0.1")
    chat.join(alice, "r1")
    chat.join(alice, "r2")
    error = refusal(chat.join, alice, "r3")
    assert error.code == "limit_reached" and "MAX_ROOMS_PER_CLIENT" in error.detail
    assert chat.join(alice, "r1") == ("r1", ["alice"])  # idempotent: not a new room
    bob = chat.login("bob", client="10.0.0.2")
    chat.join(bob, "r3")
    error = refusal(chat.join, bob, "r4")
    assert error.code == "limit_reached" and "MAX_ROOMS)" in error.detail
    chat.join(alice, "r3")  # an existing room
    error = refusal(chat.join, alice, "r4")
    assert error.code == "limit_reached" and "MAX_ROOMS_PER_SESSION" in error.detail
    assert sorted(alice.rooms) == ["r1", "r2", "r3"]


def test_streams_past_the_sessions_bound_are_refused_and_a_closed_one_frees_its_place():
    chat = Chat(Limits(max_streams_per_session=2))
    alice = chat.login("alice")
    chat.stream_opened(alice)
    chat.stream_opened(alice)
    for call in (chat.check_stream_quota, chat.stream_opened):
        error = refusal(call, alice)
        assert error.code == "limit_reached" and "MAX_STREAMS_PER_SESSION" in error.detail
    chat.stream_closed(alice)
    chat.stream_opened(alice)
    assert alice.open_streams == 2


# -- a real server with its defaults --------------------------------------------------------


def login_from(port: int, source: str, name: str) -> tuple[int, dict[str, Any]]:
    """POST /api/session from the local address `source` (any of 127.0.0.0/8)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("POST", "/api/session", json.dumps({"name": name}),
                           {"Content-Type": "application/json"})  # fmt: skip
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        connection.close()


def test_a_login_flood_from_one_address_is_refused_past_its_bound(server_factory):
    server = server_factory()  # the defaults of `chatlab serve`
    flood = requests.Session()
    answers = [
        flood.post(f"{server.url}/api/session", json={"name": f"f{i}"}, timeout=10)
        for i in range(DEFAULTS.max_sessions_per_client + 200)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses == [201] * DEFAULTS.max_sessions_per_client + [429] * 200
    assert answers[-1].json() == {
        "error": "limit_reached",
        "detail": f"This address holds {DEFAULTS.max_sessions_per_client} sessions, the most "
        "one address may (MAX_SESSIONS_PER_CLIENT): log one of them out first.",
    }
    # another address is not refused, and a logout from the first frees a place for it
    assert login_from(server.port, "127.0.0.2", "normal")[0] == 201
    token = answers[0].json()["token"]
    ended = flood.delete(f"{server.url}/api/session", headers={"Authorization": f"Bearer {token}"})
    assert ended.status_code == 204
    assert flood.post(f"{server.url}/api/session", json={"name": "again"}).status_code == 201


def test_a_join_flood_from_one_session_is_refused_past_its_bound(server_factory):
    server = server_factory()
    flooder = Api(server.url, "flooder")
    answers = [flooder.post(f"/api/rooms/r{i}/join") for i in range(100)]
    made = DEFAULTS.max_rooms_per_client
    assert [a.status_code for a in answers] == [200] * made + [429] * (100 - made)
    assert answers[-1].json()["error"] == "limit_reached"
    assert "MAX_ROOMS_PER_CLIENT" in answers[-1].json()["detail"]
    assert len(flooder.get("/api/rooms").json()["rooms"]) == made
    flooder.close()


# -- streams over the three streaming transports ---------------------------------------------


def open_counts(server) -> dict[str, int]:
    transports = server.metrics()["transports"]
    return {t: transports[t]["open"] for t in ("long_poll", "sse", "websocket")}


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


def assert_refused(answer_status: int, body: dict[str, Any]) -> None:
    assert answer_status == 429
    assert body["error"] == "limit_reached"
    assert "MAX_STREAMS_PER_SESSION" in body["detail"]


def long_poll(user: Api) -> int:
    """A long poll of 30 s on a connection of its own; its status."""
    headers = {"Authorization": f"Bearer {user.token}"}
    url = f"{user.base}/api/longpoll"
    return requests.get(url, params={"timeout": 30}, headers=headers, timeout=40).status_code


@pytest.mark.parametrize("kind", ["long_poll", "sse", "websocket"])
def test_a_session_may_open_so_many_streams_and_the_next_is_refused(server_factory, kind):
    server = server_factory()
    user = Api(server.url, unique("streamer"))
    cap = DEFAULTS.max_streams_per_session
    opened: list[Any] = []
    polls: list[threading.Thread] = []
    answers: list[int] = []
    ws_url = f"/ws?token={user.token}"
    try:
        for _ in range(cap):
            if kind == "long_poll":
                poll = threading.Thread(target=lambda: answers.append(long_poll(user)))
                poll.start()
                polls.append(poll)
            elif kind == "sse":
                opened.append(user.get("/api/stream", stream=True))
                assert opened[-1].status_code == 200
            else:
                opened.append(RawWebSocket(server.url, ws_url))
                assert opened[-1].status == 101
        wait_for(lambda: open_counts(server)[kind] == cap)
        # the next one of any kind is refused, a WebSocket at the handshake (no upgrade)
        answer = user.get("/api/longpoll", params={"timeout": 30})
        assert_refused(answer.status_code, answer.json())
        answer = user.get("/api/stream", stream=True)
        assert_refused(answer.status_code, answer.json())
        refused = RawWebSocket(server.url, ws_url)
        assert_refused(refused.status, json.loads(refused.body))
        refused.close()
        assert open_counts(server)[kind] == cap
        # nobody else is refused
        other = Api(server.url, unique("other"))
        assert other.get("/api/longpoll", params={"timeout": 0}).status_code == 200
        other.close()
    finally:
        user.http.delete(f"{server.url}/api/session", timeout=10)  # ends them all at once
        for poll in polls:
            poll.join(10)
        for stream in opened:
            stream.close()
    assert answers == [401] * len(polls)  # long polls ended by the logout, not by their timeout
