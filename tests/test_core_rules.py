"""The core's rules: names, rooms, privacy, idempotency, limits."""

import pytest

from chat_core import Chat, ChatError, Limits


def refused(code: str, call, *args):
    with pytest.raises(ChatError) as info:
        call(*args)
    assert info.value.code == code, info.value.detail
    assert info.value.detail
    return info.value


def lobby(chat: Chat, *names: str):
    users = [chat.login(name) for name in names]
    for user in users:
        chat.join(user, "lobby")
    return users


def test_names_are_nfc_normalised_and_follow_the_character_rules(new_chat):
    chat = new_chat()
    assert chat.login("e\u0301ve").name == "\u00e9ve"
    assert chat.login("a" * 32).name == "a" * 32
    assert chat.login("Ünïcode_name-1.0").name == "Ünïcode_name-1.0"
    for bad in ("", "a" * 33, "with space", "semi;colon", "<b>", 42, None):
        refused("bad_request", chat.login, bad)


def test_names_are_case_sensitive_and_a_held_name_is_taken(new_chat):
    chat = new_chat()
    chat.login("alice")
    chat.login("Alice")
    refused("name_taken", chat.login, "alice")
    refused("name_taken", chat.login, "a\u006c\u0069ce")


def test_a_released_name_starts_afresh(new_chat):
    chat = new_chat()
    alice, bob = lobby(chat, "alice", "bob")
    chat.send(bob, {"to": "alice", "text": "for the first alice"})
    chat.logout(alice)
    again = chat.login("alice")
    assert chat.read(again, 0).messages == []
    assert again.rooms == set()


def test_private_messages_reach_only_sender_and_recipient(new_chat):
    chat = new_chat()
    alice, bob, carol = lobby(chat, "alice", "bob", "carol")
    start = chat.newest_id()
    sent = chat.send(alice, {"to": "bob", "text": "secret"})
    assert [m.id for m in chat.read(alice, start).messages] == [sent.id]
    assert [m.id for m in chat.read(bob, start).messages] == [sent.id]
    assert chat.read(carol, start).messages == []
    assert chat.history(carol, "lobby", 50) == []


def test_the_sender_is_the_session_never_the_payload(new_chat):
    chat = new_chat()
    alice, bob = lobby(chat, "alice", "bob")
    chat.send(alice, {"room": "lobby", "text": "hi", "from": "bob", "sender": "bob"})
    assert chat.read(bob, 0).messages[0].sender == "alice"


def test_a_private_message_to_an_unknown_user_is_refused_and_creates_nothing(new_chat):
    chat = new_chat()
    (alice,) = lobby(chat, "alice")
    before = chat.newest_id()
    refused("no_such_user", chat.send, alice, {"to": "nobody", "text": "hello?"})
    assert chat.newest_id() == before


def test_room_rules_unknown_room_non_member_and_leave(new_chat):
    chat = new_chat()
    alice, bob = lobby(chat, "alice", "bob")
    outsider = chat.login("outsider")
    refused("not_found", chat.send, alice, {"room": "nowhere", "text": "x"})
    refused("forbidden", chat.send, outsider, {"room": "lobby", "text": "x"})
    refused("not_found", chat.history, alice, "nowhere", 10)
    refused("forbidden", chat.history, outsider, "lobby", 10)
    assert chat.leave(outsider, "lobby") == "lobby"  # harmless when not joined
    chat.leave(bob, "lobby")
    start = chat.newest_id()
    chat.send(alice, {"room": "lobby", "text": "after bob left"})
    assert chat.read(bob, start).messages == []
    assert chat.rooms() == [("lobby", 1)]


def test_joining_is_idempotent_and_lists_members(new_chat):
    chat = new_chat()
    alice, bob = lobby(chat, "alice", "bob")
    assert chat.join(alice, "lobby") == ("lobby", ["alice", "bob"])
    assert chat.rooms() == [("lobby", 2)]


def test_history_holds_messages_from_before_the_reader_joined(new_chat):
    chat = new_chat()
    (alice,) = lobby(chat, "alice")
    for i in range(3):
        chat.send(alice, {"room": "lobby", "text": str(i)})
    late = chat.login("late")
    chat.join(late, "lobby")
    assert [m.text for m in chat.history(late, "lobby", 2)] == ["1", "2"]
    refused("bad_request", chat.history, late, "lobby", 0)
    refused("bad_request", chat.history, late, "lobby", 201)


def test_a_history_limit_is_a_whole_number_given_as_a_number_or_as_query_digits(new_chat):
    chat = new_chat(Limits(rate_burst=100))
    (alice,) = lobby(chat, "alice")
    for i in range(60):
        chat.send(alice, {"room": "lobby", "text": str(i)})
    assert [m.text for m in chat.history(alice, "lobby", "2")] == ["58", "59"]
    assert len(chat.history(alice, "lobby")) == 50  # the default
    assert len(chat.history(alice, "lobby", "200")) == 60
    for bad in ("ten", "-1", "1.5", "²", True, 2.0):
        refused("bad_request", chat.history, alice, "lobby", bad)


def test_a_repeated_cid_returns_the_first_id_and_creates_nothing(new_chat):
    chat = new_chat()
    alice, bob = lobby(chat, "alice", "bob")
    first = chat.send(alice, {"room": "lobby", "text": "once", "cid": "c1"})
    again = chat.send(alice, {"room": "lobby", "text": "x" * 10_000, "cid": "c1"})
    assert first.created and not again.created and again.id == first.id
    assert len(chat.read(bob, 0).messages) == 1
    # another session's cid space is its own
    assert chat.send(bob, {"room": "lobby", "text": "mine", "cid": "c1"}).created


def test_a_session_remembers_its_last_cids_up_to_its_limit(new_chat):
    chat = new_chat(Limits(cid_memory=3, rate_burst=100))
    (alice,) = lobby(chat, "alice")
    ids = [chat.send(alice, {"room": "lobby", "text": "m", "cid": f"c{i}"}).id for i in range(4)]
    assert not chat.send(alice, {"room": "lobby", "text": "m", "cid": "c3"}).created
    assert chat.send(alice, {"room": "lobby", "text": "m", "cid": "c0"}).id > ids[-1]


def test_text_length_is_counted_in_code_points(new_chat):
    chat = new_chat(Limits(max_text=10))
    (alice,) = lobby(chat, "alice")
    assert chat.send(alice, {"room": "lobby", "text": "😀" * 10}).created
    error = refused("too_large", chat.send, alice, {"room": "lobby", "text": "😀" * 11})
    assert error.status == 413


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "no target"},
        {"room": "lobby", "to": "bob", "text": "both"},
        {"room": "lobby", "text": 5},
        {"room": "lobby", "text": ""},
        {"room": "lobby", "text": "x", "ts": "yesterday"},
        {"room": "lobby", "text": "x", "ts": True},
        {"room": "lobby", "text": "x", "cid": 7},
        {"room": ["lobby"], "text": "x"},
        ["not", "an", "object"],
    ],
)
def test_malformed_sends_are_bad_requests(payload, new_chat):
    chat = new_chat()
    (alice,) = lobby(chat, "alice")
    refused("bad_request", chat.send, alice, payload)


def test_sending_is_rate_limited_per_session_and_refusals_do_not_count(new_chat):
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    chat = new_chat(Limits(rate_per_second=20, rate_burst=40), clock=clock)
    alice, bob = lobby(chat, "alice", "bob")
    for _ in range(5):
        refused("no_such_user", chat.send, alice, {"to": "ghost", "text": "x"})
    for i in range(40):
        chat.send(alice, {"room": "lobby", "text": str(i)})
    error = refused("rate_limited", chat.send, alice, {"room": "lobby", "text": "one too many"})
    assert 0 < error.retry_after <= 0.05 + 1e-9
    assert chat.send(bob, {"room": "lobby", "text": "bob is unaffected"}).created
    clock.now += 0.05  # one token back at 20 a second
    assert chat.send(alice, {"room": "lobby", "text": "again"}).created
    refused("rate_limited", chat.send, alice, {"room": "lobby", "text": "and again"})
