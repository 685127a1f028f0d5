"""The Redis backend's faults and durability, against a real redis-server and real servers:
Redis going away (503, an error frame, a stream end, nothing half-accepted, back by itself),
and every process stopped and started again (nothing lost, clients resume)."""

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import requests
from clients import Api, SseReceiver, WebSocketReceiver, unique, until
from conftest import EVERY_TEST_FROM_ONE_ADDRESS, redis_config, start_server
from raw_ws import RawWebSocket

from lab.redis_server import RedisServer
from wire.websocket import Close, TextMessage


@pytest.fixture
def durable_redis(tmp_path: Path) -> Any:
    """A redis-server of this test's own that logs every write before answering it."""
    store = RedisServer(tmp_path / "redis", appendonly=True)
    yield store
    store.stop()


def history(user: Api, room: str) -> list[dict[str, Any]]:
    answer = user.get(f"/api/rooms/{room}/messages", params={"limit": 200})
    assert answer.status_code == 200, answer.text
    return answer.json()["messages"]


def test_redis_unreachable_is_503_everywhere_nothing_half_done_and_service_comes_back(
    tmp_path: Path, durable_redis: RedisServer
) -> None:
    server = start_server(tmp_path, redis_config(durable_redis, EVERY_TEST_FROM_ONE_ADDRESS))
    try:
        room = unique("room")
        alice, bob = Api(server.url, unique("alice")), Api(server.url, unique("bob"))
        alice.join(room), bob.join(room)
        before = [alice.say(room=room, text=f"before {i}", cid=f"b{i}") for i in range(3)]
        ws = RawWebSocket(server.url, f"/ws?token={bob.token}&since={bob.cursor}")
        assert ws.status == 101
        sse = SseReceiver(bob, bob.cursor)
        assert [m["id"] for m in sse.receive(3)] == before

        durable_redis.stop(signal.SIGKILL)

        refused = alice.send(room=room, text="during", cid="d1")
        assert refused.status_code == 503
        body = refused.json()
        assert body["error"] == "unavailable"
        assert "Redis" in body["detail"] and str(durable_redis.port) in body["detail"]
        login = requests.post(f"{server.url}/api/session", json={"name": unique("x")}, timeout=10)
        assert login.status_code == 503 and login.json()["error"] == "unavailable"
        # the open WebSocket says why, then closes with 1013 (try again later)
        frames = []
        for _ in range(1000):
            event = ws.next_event()
            if event is None or isinstance(event, Close):
                break
            if isinstance(event, TextMessage):
                frames.append(json.loads(event.data))
        assert isinstance(event, Close) and event.code == 1013
        assert frames[-1]["type"] == "error" and frames[-1]["error"] == "unavailable"
        sse.close()
        ws.close()

        durable_redis.start()
        again = until(lambda: alice.send(room=room, text="during", cid="d1"), what="a send")
        assert again.status_code == 201
        repeat = alice.send(room=room, text="during", cid="d1")
        assert repeat.status_code == 200 and repeat.json()["id"] == again.json()["id"]
        accepted = [*before, again.json()["id"]]
        assert [m["id"] for m in history(bob, room)] == accepted  # nothing half-accepted
        resumed = WebSocketReceiver(bob, before[-1])
        try:
            assert [m["id"] for m in resumed.receive(1)] == accepted[-1:]
            assert resumed.receive(1, timeout=0.5) == []  # and nothing doubled
        finally:
            resumed.close()
    finally:
        server.stop()


def test_the_sse_stream_ends_when_redis_goes_away(tmp_path: Path, durable_redis: RedisServer):
    server = start_server(tmp_path, redis_config(durable_redis, EVERY_TEST_FROM_ONE_ADDRESS))
    try:
        bob = Api(server.url, unique("bob"))
        stream = bob.get("/api/stream", stream=True, timeout=20)
        lines = stream.iter_lines(chunk_size=None)
        assert next(lines) == b"retry: 2000"
        durable_redis.stop(signal.SIGKILL)
        rest = list(lines)  # returns only once the server ends the stream
        assert all(not line.startswith(b"data:") for line in rest)
        stream.close()
        durable_redis.start()
        until(lambda: bob.get("/api/session").status_code == 200, what="the session again")
    finally:
        server.stop()


def test_stopping_everything_and_starting_again_loses_nothing(
    tmp_path: Path, durable_redis: RedisServer
) -> None:
    config = redis_config(durable_redis, EVERY_TEST_FROM_ONE_ADDRESS)
    server = start_server(tmp_path, config)
    room = unique("room")
    alice, bob = Api(server.url, unique("alice")), Api(server.url, unique("bob"))
    alice.join(room), bob.join(room)
    sent = [alice.say(room=room, text=f"m{i}", cid=f"c{i}") for i in range(6)]
    private = alice.say(to=bob.name, text="just you")
    reader = WebSocketReceiver(bob, bob.cursor)
    read = reader.receive(3)
    reader.close()
    cursor = read[-1]["id"]
    server.stop()
    durable_redis.stop()  # SIGTERM: the server's own clean shutdown

    durable_redis.start()
    server = start_server(tmp_path, config)
    try:
        for user in (alice, bob):
            user.base = server.url
        me = bob.get("/api/session")
        assert me.status_code == 200 and me.json()["name"] == bob.name
        assert me.json()["rooms"] == [room]
        resumed = WebSocketReceiver(bob, cursor)
        try:
            rest = resumed.receive(4)
        finally:
            resumed.close()
        assert [m["id"] for m in read + rest] == [*sent, private]
        assert [m["id"] for m in history(bob, room)] == sent
        # the names are still held, the cids still remembered, the ids still increase
        taken = requests.post(f"{server.url}/api/session", json={"name": alice.name}, timeout=10)
        assert taken.status_code == 409
        repeat = alice.send(room=room, text="m0", cid="c0")
        assert repeat.status_code == 200 and repeat.json()["id"] == sent[0]
        assert alice.say(room=room, text="after") > private
    finally:
        server.stop()


def test_more_calls_at_once_than_the_pool_holds_wait_their_turn(tmp_path: Path, redis_store):
    """200 long polls in one process, more than its REDIS_CONNECTIONS: none is refused."""
    import concurrent.futures

    from chat_redis.chat import REDIS_CONNECTIONS

    server = start_server(tmp_path, redis_config(redis_store, EVERY_TEST_FROM_ONE_ADDRESS))
    users = 200
    assert users > REDIS_CONNECTIONS
    try:
        room = unique("room")
        sender = Api(server.url, unique("sender"))
        sender.join(room)
        readers = [Api(server.url, unique("reader")) for _ in range(users)]
        for reader in readers:
            reader.join(room)

        def poll(reader: Api) -> tuple[int, list[str]]:
            answer = reader.get("/api/longpoll", params={"since": reader.cursor, "timeout": 20})
            return answer.status_code, [m["text"] for m in answer.json().get("messages", [])]

        with concurrent.futures.ThreadPoolExecutor(users) as pool:
            polls = [pool.submit(poll, reader) for reader in readers]
            until(lambda: server.metrics()["transports"]["long_poll"]["open"] == users,
                  what="every long poll open")  # fmt: skip
            sender.say(room=room, text="to all at once")
            answers = [p.result(timeout=30) for p in polls]
        assert answers == [(200, ["to all at once"])] * users
        for reader in readers:
            reader.close()
    finally:
        server.stop()
