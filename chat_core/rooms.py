"""The rooms that exist: their members, who made them, and how long each has been empty.

State only; the rules (who may join, how many rooms) are the chat's. Members are sessions,
each by its stream key, never by name: a name passes to its next holder when a session ends,
and nothing the old session does can then touch the new one's membership.
"""

from collections import Counter
from dataclasses import dataclass, field

from .lookalikes import LookalikeIndex
from .sessions import Session


@dataclass(eq=False, slots=True)
class Room:
    name: str
    creator: str | None  # the client address of the session that made it
    members: dict[str, str] = field(default_factory=dict)  # stream key → the member's name

    def member_names(self) -> list[str]:
        return sorted(self.members.values())


class RoomTable:
    def __init__(self) -> None:
        self.lookalikes = LookalikeIndex()
        self.per_client: Counter[str | None] = Counter()  # rooms held, by creator's address
        self._rooms: dict[str, Room] = {}
        self._empty_since: dict[str, float] = {}  # the rooms with no member, longest empty first

    def __len__(self) -> int:
        return len(self._rooms)

    def __contains__(self, name: object) -> bool:
        return name in self._rooms

    def get(self, name: str) -> Room | None:
        return self._rooms.get(name)

    def create(self, name: str, creator: str | None) -> Room:
        room = self._rooms[name] = Room(name, creator)
        self.lookalikes.add(name)
        self.per_client[creator] += 1
        return room

    def add_member(self, room: Room, session: Session) -> None:
        room.members[session.stream] = session.name
        self._empty_since.pop(room.name, None)

    def remove_member(self, room: Room, session: Session, now: float) -> None:
        if room.members.pop(session.stream, None) is not None and not room.members:
            self._empty_since[room.name] = now

    def forget_empty(self, emptied_before: float, at_most: int) -> list[str]:
        """Forget up to `at_most` rooms that have had no member since before `emptied_before`;
        their names. Costs what it forgets, not what exists."""
        forgotten: list[str] = []
        while self._empty_since and len(forgotten) < at_most:
            name, since = next(iter(self._empty_since.items()))
            if since >= emptied_before:
                break
            del self._empty_since[name]
            room = self._rooms.pop(name)
            self.lookalikes.discard(name)
            self.per_client[room.creator] -= 1
            if not self.per_client[room.creator]:
                del self.per_client[room.creator]
            forgotten.append(name)
        return forgotten

    def occupied(self) -> list[tuple[str, int]]:
        """Rooms with at least one member and how many, in name order."""
        return sorted((name, len(r.members)) for name, r in self._rooms.items() if r.members)
