"""Rooms formed inside one load-generating process."""

import threading

from loadtests.rooms import RoomBook


def test_a_room_opens_when_full_and_every_member_has_joined():
    book = RoomBook("p", 3, threading.Event)
    rooms = [book.assign(name) for name in ("a", "b", "c", "d")]
    assert rooms[0] is rooms[1] is rooms[2] and rooms[3] is not rooms[0]
    book.ready(rooms[0], "a")
    book.ready(rooms[0], "b")
    assert not rooms[0].is_open
    book.ready(rooms[0], "c")
    assert rooms[0].is_open and rooms[0].publisher == "a"
    assert rooms[0].others("b") == ["a", "c"]
    book.ready(rooms[3], "d")
    assert not rooms[3].is_open and not book.all_open()
    book.open_partial_rooms()
    assert rooms[3].is_open and book.all_open()
    assert book.assign("e") is not rooms[3]  # an open room takes nobody


def test_a_member_that_failed_to_join_does_not_hold_its_room_shut():
    book = RoomBook("p", 2, threading.Event)
    room = book.assign("a")
    book.assign("b")
    book.ready(room, "a")
    book.abandon(room, "b")
    assert not room.is_open  # not full: only opened once no more users are coming
    book.open_partial_rooms()
    assert room.is_open and room.members == ["a"]
