"""The core without sockets: streams, cursors, gaps, waiting, ordering."""

import threading

import pytest

from chat_core import Limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def texts(batch) -> list[str]:
    return [m.text for m in batch.messages]


def test_a_room_message_reaches_every_member_and_its_sender(new_chat):
    chat = new_chat()
    alice, bob = chat.login("alice"), chat.login("bob")
    chat.join(alice, "lobby")
    chat.join(bob, "lobby")
    start = chat.newest_id()
    sent = chat.send(alice, {"room": "lobby", "text": "hi"})
    for reader in (alice, bob):
        batch = chat.read(reader, start)
        assert [m.id for m in batch.messages] == [sent.id]
        assert batch.messages[0].sender == "alice"
        assert batch.cursor == sent.id


def test_reading_from_a_cursor_returns_only_newer_messages(new_chat):
    chat = new_chat()
    alice = chat.login("alice")
    chat.join(alice, "lobby")
    ids = [chat.send(alice, {"room": "lobby", "text": str(i)}).id for i in range(5)]
    batch = chat.read(alice, ids[1])
    assert [m.id for m in batch.messages] == ids[2:]
    assert chat.read(alice, ids[-1]).messages == []
    assert chat.read(alice, ids[-1]).cursor == ids[-1]


def test_a_page_carries_the_first_part_and_says_how_much_remains(new_chat):
    chat = new_chat(Limits(poll_page=3))
    alice = chat.login("alice")
    chat.join(alice, "lobby")
    start = chat.newest_id()
    for i in range(7):
        chat.send(alice, {"room": "lobby", "text": str(i)})
    first = chat.read(alice, start)
    assert texts(first) == ["0", "1", "2"] and first.remaining == 4
    second = chat.read(alice, first.cursor)
    assert texts(second) == ["3", "4", "5"] and second.remaining == 1


def test_ids_strictly_increase_in_every_stream_under_concurrent_senders(new_chat):
    chat = new_chat(Limits(rate_burst=1000, rate_per_second=1000.0))
    users = [chat.login(f"u{i}") for i in range(4)]
    for user in users:
        chat.join(user, "lobby")
    start = chat.newest_id()

    def chatter(user) -> None:
        for i in range(100):
            chat.send(user, {"room": "lobby", "text": f"{user.name}-{i}"})

    threads = [threading.Thread(target=chatter, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    orders = []
    for user in users:
        ids = [m.id for m in chat.read(user, start, limit=1000).messages]
        assert len(ids) == 400
        assert ids == sorted(set(ids))
        orders.append(ids)
    assert all(order == orders[0] for order in orders)


def test_wait_returns_as_soon_as_a_message_arrives(new_chat):
    chat = new_chat()
    alice, bob = chat.login("alice"), chat.login("bob")
    chat.join(alice, "lobby")
    chat.join(bob, "lobby")
    start = chat.newest_id()
    result = {}
    waiter = threading.Thread(target=lambda: result.update(batch=chat.wait(bob, start, 30)))
    waiter.start()
    chat.send(alice, {"room": "lobby", "text": "wake up"})
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert texts(result["batch"]) == ["wake up"]


def test_wait_times_out_with_an_empty_batch(new_chat):
    chat = new_chat()
    bob = chat.login("bob")
    batch = chat.wait(bob, chat.newest_id(), 0.01)
    assert batch.messages == [] and batch.gap_oldest is None and not batch.ended


def test_a_stream_that_dropped_messages_reports_a_gap_with_the_oldest_retained_id(new_chat):
    chat = new_chat(Limits(stream_retention=5))
    alice = chat.login("alice")
    chat.join(alice, "lobby")
    start = chat.newest_id()
    ids = [chat.send(alice, {"room": "lobby", "text": str(i)}).id for i in range(8)]
    batch = chat.read(alice, start)
    assert batch.gap_oldest == ids[3]
    assert [m.id for m in batch.messages] == ids[3:]
    assert chat.read(alice, batch.cursor).gap_oldest is None
    assert chat.read(alice, ids[3]).gap_oldest is None  # nothing newer than that was dropped


def test_a_stream_that_never_dropped_anything_never_reports_a_gap(new_chat):
    chat = new_chat(Limits(stream_retention=5))
    alice = chat.login("alice")
    chat.join(alice, "lobby")
    for i in range(5):
        chat.send(alice, {"room": "lobby", "text": str(i)})
    assert chat.read(alice, 0).gap_oldest is None


def test_a_cursor_newer_than_the_newest_message_is_refused(new_chat):
    chat = new_chat()
    from chat_core import ChatError

    with pytest.raises(ChatError) as refused:
        chat.cursor(chat.newest_id() + 1)
    assert refused.value.code == "bad_request"
    assert chat.cursor(None) == chat.newest_id()
    assert chat.cursor("0") == 0


def test_ending_a_session_ends_its_waits_and_streams(new_chat):
    chat = new_chat()
    bob = chat.login("bob")
    result = {}
    waiter = threading.Thread(target=lambda: result.update(b=chat.wait(bob, 0, 30)))
    waiter.start()
    chat.logout(bob)
    waiter.join(timeout=30)
    assert result["b"].ended
    assert chat.read(bob, 0).ended


def test_idle_sessions_expire_but_not_while_a_stream_is_open(new_chat):
    clock = Clock()
    chat = new_chat(Limits(session_expiry=600), clock=clock)
    idle, streaming = chat.login("idle"), chat.login("streaming")
    chat.stream_opened(streaming)
    clock.now += 601
    assert chat.expire_idle() == ["idle"]
    assert chat.authenticate(idle.token) is None
    assert chat.authenticate(streaming.token) is streaming
    chat.stream_closed(streaming)
    clock.now += 601
    assert chat.expire_idle() == ["streaming"]
