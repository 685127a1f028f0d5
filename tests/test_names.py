"""Names that cannot impersonate (docs/PROTOCOL.md, "Names"): issue 9's look-alikes are
refused, each with the rule it broke; ordinary names of many scripts are not."""

import pytest
from clients import AppUser, unique

from chat_core import Chat, ChatError, Limits

# Issue 9's probe: each was accepted beside the name it imitates. (look-alike, original,
# words the refusal must hold)
LOOKALIKES = [
    ("\u0430lice", "alice", "mixes Latin and Cyrillic"),  # Cyrillic а
    ("b\u043eb", "bob", "mixes Latin and Cyrillic"),  # Cyrillic о
    ("ev\u0435", "eve", "mixes Latin and Cyrillic"),  # Cyrillic е
    ("\u0440eter", "peter", "mixes Latin and Cyrillic"),  # Cyrillic р
    ("\u0441arol", "carol", "mixes Latin and Cyrillic"),  # Cyrillic с
    ("\u0440\u043e\u0435", "poe", "looks like the name 'poe'"),  # all Cyrillic: р о е
    ("b\u03bfb", "bob", "mixes Latin and Greek"),  # Greek ο
    ("\U0001d41alice", "alice", "styled or compatibility form of 'a'"),  # math bold 𝐚
    ("al\u0131ce", "alice", "looks like the name 'alice'"),  # dotless ı
    ("\u2160van", "Ivan", "compatibility form of 'I'"),  # ROMAN NUMERAL ONE
    ("AIice", "Alice", "looks like the name 'Alice'"),  # capital I for small l
    ("alice\u3164", "alice", "invisible or control character (U+3164 HANGUL FILLER)"),
    ("alice\u115f", "alice", "invisible or control character (U+115F"),
    ("alice\uffa0", "alice", "invisible or control character (U+FFA0"),
]
FULLWIDTH = "\uff41\uff4c\uff49\uff43\uff45"  # ａｌｉｃｅ
ORDINARY = ["张伟", "李娜_2", "Иван", "Νίκος", "محمد", "राहुल", "田中さん", "김민준", "王wang",
            "bob_2024", "li.wei-3", "Zoë", "José", "Ærøskøbing", "e-mail.me", "_x_"]  # fmt: skip


def refusal(call, *args) -> ChatError:
    with pytest.raises(ChatError) as info:
        call(*args)
    return info.value


@pytest.mark.parametrize(("lookalike", "original", "because"), LOOKALIKES)
def test_each_lookalike_of_the_probe_is_refused_with_the_rule_it_broke(
    lookalike, original, because
):
    chat = Chat()
    chat.login(original)
    error = refusal(chat.login, lookalike)
    assert (error.code, error.status) == ("bad_request", 400)
    assert because in error.detail, error.detail


def test_a_fullwidth_name_reads_as_its_plain_form_and_so_is_the_name_in_use():
    chat = Chat()
    chat.login("alice")
    error = refusal(chat.login, FULLWIDTH)
    assert error.code == "name_taken"
    assert f"'{FULLWIDTH}' reads as 'alice'" in error.detail
    assert Chat().login(FULLWIDTH).name == "alice"  # where alice is free, it is alice


@pytest.mark.parametrize("invisible", ["\u3164", "\u115f", "\uffa0", "\u3164\u3164", "\u0301"])
def test_a_name_with_no_visible_character_is_refused(invisible):
    error = refusal(Chat().login, invisible)
    assert error.code == "bad_request"
    assert "has no visible character" in error.detail


def test_ordinary_names_of_many_scripts_are_held_side_by_side():
    chat = Chat(Limits(max_sessions_per_client=100, max_rooms_per_client=100))
    held = [chat.login(name).name for name in ORDINARY]
    assert held == ORDINARY
    for name in ORDINARY:  # and each makes a room of its name
        assert chat.join(chat.login(f"{name}.2"), name)[0] == name


def test_names_keep_their_case_and_alice_and_Alice_are_two_names():
    chat = Chat()
    assert [chat.login(n).name for n in ("alice", "Alice", "ALICE")] == ["alice", "Alice", "ALICE"]


def test_a_lookalike_is_refused_only_while_its_original_is_held():
    chat = Chat()
    alice = chat.login("alice")
    refusal(chat.login, "al\u0131ce")
    chat.logout(alice)
    assert chat.login("al\u0131ce").name == "al\u0131ce"
    assert "looks like the name 'al\u0131ce'" in refusal(chat.login, "alice").detail


def test_room_names_follow_the_same_rules_against_the_rooms_that_exist():
    chat = Chat()
    alice = chat.login("alice")
    chat.join(alice, "lobby")
    error = refusal(chat.join, alice, "Iobby")  # capital I
    assert error.code == "bad_request"
    assert "looks like the room 'lobby', already in use" in error.detail
    assert "mixes Latin and Cyrillic" in refusal(chat.join, alice, "l\u043ebby").detail
    assert "no visible character" in refusal(chat.join, alice, "\u3164").detail
    assert chat.join(alice, "alice")[0] == "alice"  # a room may look like a user: two namespaces
    assert chat.join(chat.login("bob"), "lobby")[1] == ["alice", "bob"]  # the room itself


@pytest.mark.parametrize(
    ("name", "because"),
    [
        ("with space", "may hold only letters, digits, '_', '-' and '.'"),
        ("semi;colon", "may hold only letters, digits, '_', '-' and '.'"),
        ("a" * 33, "must be 1 to 32 characters long"),
        ("\ufb01le", "a styled or compatibility form of 'fi'"),  # the ligature ﬁ
        ("x\u200dy", "invisible or control character (U+200D ZERO WIDTH JOINER)"),
        ("bob\u200b", "invisible or control character (U+200B ZERO WIDTH SPACE)"),
    ],
)
def test_other_refusals_say_which_rule(name, because):
    error = refusal(Chat().login, name)
    assert error.code == "bad_request"
    assert because in error.detail, error.detail


def test_over_http_a_lookalike_is_a_400_in_the_error_format(app):
    original = unique("lily")
    AppUser(app, original)
    client = app.test_client()
    cyrillic = original.replace("i", "\u0456", 1)  # Cyrillic і
    answer = client.post("/api/session", json={"name": cyrillic})
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": "bad_request",
        "detail": f"The name '{cyrillic}' mixes Latin and Cyrillic letters.",
    }
    capital_i = "I" + original[1:]
    answer = client.post("/api/session", json={"name": capital_i})
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": "bad_request",
        "detail": f"The name '{capital_i}' looks like the name '{original}', already in use.",
    }
