"""Rooms formed inside one load-generating process, so that its ledger is exact on its own.

Users are put in rooms of `room_size` in the order they start. A room opens — its members may
send — only once every member has joined, so that "the members at acceptance" of every
message is simply the room's member list. A room that cannot fill (the last one) is opened by
`open_partial_rooms` once no more users are coming. No room takes a member after it opened.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Flag(Protocol):
    def set(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass(eq=False)
class Room:
    name: str
    capacity: int
    opened: Flag
    members: list[str] = field(default_factory=list)
    ready: set[str] = field(default_factory=set)

    @property
    def is_open(self) -> bool:
        return self.opened.is_set()

    @property
    def publisher(self) -> str:
        """The member that publishes in the ticker and burst workloads."""
        return self.members[0]

    def others(self, name: str) -> list[str]:
        return [member for member in self.members if member != name]


class RoomBook:
    def __init__(self, prefix: str, room_size: int, make_flag: Callable[[], Flag]) -> None:
        self.prefix = prefix
        self.room_size = room_size
        self.rooms: list[Room] = []
        self._make_flag = make_flag

    def assign(self, user: str) -> Room:
        """The room `user` is to join: the newest one if it still has a place."""
        room = self.rooms[-1] if self.rooms else None
        if room is None or room.is_open or len(room.members) >= room.capacity:
            room = Room(f"{self.prefix}r{len(self.rooms) + 1}", self.room_size, self._make_flag())
            self.rooms.append(room)
        room.members.append(user)
        return room

    def ready(self, room: Room, user: str) -> None:
        """`user` has joined `room` and receives its stream; a full room may open."""
        room.ready.add(user)
        if len(room.members) >= room.capacity:
            self._open_if_ready(room)

    def abandon(self, room: Room, user: str) -> None:
        """`user` could not set up: the room goes on without it."""
        if user in room.members and not room.is_open:
            room.members.remove(user)
            room.ready.discard(user)

    def open_partial_rooms(self) -> None:
        """No more users are coming: rooms that cannot fill open once their members are ready."""
        for room in self.rooms:
            self._open_if_ready(room)

    def all_open(self) -> bool:
        return all(room.is_open or not room.members for room in self.rooms)

    def _open_if_ready(self, room: Room) -> None:
        if not room.is_open and room.members and room.ready == set(room.members):
            room.opened.set()
