"""The chat service: the one object every transport talks to.

Every state change happens under one lock, so ids are allocated and appended to every
recipient's stream in the same order: within a stream, ids strictly increase.

Every call on a session that has ended is refused, whatever its name's next holder does: a
connection read after its session ended acts on nothing.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import lookalikes
from .errors import ChatError, ErrorCode
from .limits import Limits
from .message import Message
from .names import checked_name
from .rooms import Room, RoomTable
from .sessions import Session, SessionTable, new_session
from .storage import Batch, MemoryStorage, Storage
from .validation import parse_cid, parse_cursor, parse_history_limit, parse_send
from .waiting import Event, ThreadingWaiting, Waiting

# Sessions ended or rooms forgotten in one housekeeping round at most: the lock is held
# meanwhile, and ending 20,000 sessions in one go held it 78 ms (measured); 1,000 take ~4 ms.
HOUSEKEEPING_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SendResult:
    id: int
    created: bool  # False when the cid was seen before and the first id is returned


class Chat:
    def __init__(
        self,
        limits: Limits | None = None,
        waiting: Waiting | None = None,
        storage: Storage | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or Limits()
        self._waiting = waiting or ThreadingWaiting()
        self._lock = self._waiting.lock()
        self._storage = storage or MemoryStorage(
            self.limits.stream_retention, self.limits.room_retention
        )
        self._clock = clock
        self._sessions = SessionTable()
        self._rooms = RoomTable()
        lookalikes.load()

    # -- identity ---------------------------------------------------------------------------

    def login(self, name: Any, client: str | None = None) -> Session:
        """A new session for `name`, logged in from the address `client` (None: unknown, which
        counts as one address of its own)."""
        self._check_session_bounds(client)  # first, so that a flood past it costs little
        given = name
        name = checked_name(name, "name", self.limits.max_name)
        with self._lock:
            if name in self._sessions.by_name:
                reads_as = "" if given == name else f" ('{given}' reads as '{name}')"
                raise ChatError(ErrorCode.NAME_TAKEN, f"The name '{name}' is in use{reads_as}.")
            lookalike = self._sessions.lookalikes.holder(name)
            if lookalike is not None:
                raise ChatError(
                    ErrorCode.BAD_REQUEST,
                    f"The name '{name}' looks like the name '{lookalike}', already in use.",
                )
            self._check_session_bounds(client)
            session = new_session(name, self.limits, self._clock(), client)
            self._storage.open_stream(session.stream)
            self._sessions.add(session)
            return session

    def authenticate(self, token: str) -> Session | None:
        """The live session holding `token`, marked as seen now; None for an unknown token."""
        session = self._sessions.by_token.get(token)
        if session is not None:
            self._sessions.touch(session, self._clock())
        return session

    def logout(self, session: Session) -> None:
        with self._lock:
            if not session.ended:
                self._end(session)

    def expire_idle(self, at_most: int = HOUSEKEEPING_BATCH) -> list[str]:
        """End up to `at_most` sessions idle (no request, no open stream) past the expiry;
        their names. Looks only at the sessions seen longest ago, not at every session."""
        now = self._clock()
        deadline = now - self.limits.session_expiry
        ended: list[str] = []
        with self._lock:
            for _ in range(len(self._sessions)):
                session = self._sessions.least_recently_seen()
                if session is None or session.last_seen >= deadline or len(ended) >= at_most:
                    break
                if session.open_streams:
                    self._sessions.touch(session, now)  # streaming is not idling
                    continue
                self._end(session)
                ended.append(session.name)
        return ended

    # -- rooms ------------------------------------------------------------------------------

    def join(self, session: Session, room: Any) -> tuple[str, list[str]]:
        """Join (idempotent), creating the room if it does not exist; its normalized name and
        its members."""
        room = self._room_name(room)
        with self._lock:
            self._check_live(session)
            joined = self._rooms.get(room)
            if joined is not None and session.stream in joined.members:
                return room, joined.member_names()
            limit = self.limits.max_rooms_per_session
            _refuse_at(
                len(session.rooms),
                limit,
                f"This session is in {limit} rooms, the most one session may be in "
                "(MAX_ROOMS_PER_SESSION): leave one first.",
            )
            if joined is None:
                joined = self._create_room(room, session.client)
            self._rooms.add_member(joined, session)
            session.rooms.add(room)
            return room, joined.member_names()

    def leave(self, session: Session, room: Any) -> str:
        room = self._room_name(room)
        with self._lock:
            self._check_live(session)
            left = self._rooms.get(room)
            if left is not None:
                self._rooms.remove_member(left, session, self._clock())
            session.rooms.discard(room)
            return room

    def forget_empty_rooms(self, at_most: int = HOUSEKEEPING_BATCH) -> list[str]:
        """Forget up to `at_most` rooms that have had no member for the grace period, their
        histories with them; their names. A later join makes such a room afresh."""
        emptied_before = self._clock() - self.limits.room_grace
        with self._lock:
            forgotten = self._rooms.forget_empty(emptied_before, at_most)
            for room in forgotten:
                self._storage.drop_history(room)
            return forgotten

    def rooms(self) -> list[tuple[str, int]]:
        with self._lock:
            return self._rooms.occupied()

    def members(self, session: Session, room: Any) -> tuple[str, list[str]]:
        """A room's normalized name and its members; only members may ask."""
        room = self._room_name(room)
        with self._lock:
            self._check_live(session)
            return room, self._member_of(session, room).member_names()

    def history(self, session: Session, room: Any, limit: Any = None) -> list[Message]:
        """A room's newest messages, oldest first; `limit` as `parse_history_limit` takes it."""
        room = self._room_name(room)
        limit = parse_history_limit(limit)
        with self._lock:
            self._check_live(session)
            self._member_of(session, room)
            return self._storage.history(room, limit)

    # -- messages ---------------------------------------------------------------------------

    def send(self, session: Session, payload: Any) -> SendResult:
        """Accept a message into every recipient's stream, or refuse it with a ChatError."""
        if not isinstance(payload, dict):
            raise ChatError(ErrorCode.BAD_REQUEST, "A message must be a JSON object.")
        cid = parse_cid(payload, self.limits)
        with self._lock:
            self._check_live(session)
            if cid is not None and cid in session.cids:
                return SendResult(id=session.cids[cid], created=False)
            request = parse_send(payload, self.limits, self._room_name, self._user_name)
            if request.room is not None:
                owners = self._member_of(session, request.room).members.keys()
            else:
                recipient = self._sessions.by_name.get(request.to)
                if recipient is None:
                    raise ChatError(
                        ErrorCode.NO_SUCH_USER, f"There is no user named '{request.to}'."
                    )
                owners = {session.stream, recipient.stream}
            now = self._clock()
            wait = session.bucket.wait_needed(now)
            if wait > 0:
                raise ChatError(
                    ErrorCode.RATE_LIMITED,
                    f"Too many messages: at most {self.limits.rate_per_second:g} a second.",
                    retry_after=wait,
                )
            session.bucket.take()
            message = Message(
                id=self._storage.allocate_id(),
                room=request.room,
                to=request.to,
                sender=session.name,
                text=request.text,
                at=now,
                cid=cid,
                ts=request.ts,
            )
            self._storage.deliver(message, owners)
            if request.room is not None:
                self._storage.add_to_history(request.room, message)
            if cid is not None:
                session.remember_cid(cid, message.id)
            return SendResult(id=message.id, created=True)

    def newest_id(self) -> int:
        return self._storage.newest_id()

    def cursor(self, since: Any) -> int:
        """A reader's starting cursor from its `since` (None: from now on)."""
        return parse_cursor(since, self._storage.newest_id())

    def read(self, session: Session, after: int, limit: int | None = None) -> Batch:
        with self._lock:
            if session.ended:
                return Batch(messages=[], cursor=after, ended=True)
            return self._storage.read(session.stream, after, limit or self.limits.poll_page)

    def wait(self, session: Session, after: int, timeout: float, limit: int | None = None) -> Batch:
        """Messages newer than `after`, waiting up to `timeout` seconds for the first one."""
        limit = limit or self.limits.poll_page
        with self._lock:
            batch = self.read(session, after, limit)
            if batch.messages or batch.gap_oldest is not None or batch.ended:
                return batch
            event = self._waiting.event()
            self._storage.listen(session.stream, event)
        try:
            event.wait(timeout)
        finally:
            with self._lock:
                self._storage.unlisten(session.stream, event)
        return self.read(session, after, limit)

    def listen(self, session: Session, event: Event) -> None:
        """Have `event` set whenever the session's stream grows or ends."""
        with self._lock:
            if session.ended:
                event.set()
            else:
                self._storage.listen(session.stream, event)

    def unlisten(self, session: Session, event: Event) -> None:
        with self._lock:
            self._storage.unlisten(session.stream, event)

    def backlog(self, session: Session, after: int) -> int:
        """How many messages newer than `after` wait in the session's stream."""
        with self._lock:
            return self._storage.backlog(session.stream, after)

    def check_stream_quota(self, session: Session) -> None:
        """Refuse (limit_reached) when the session has as many streams open as it may: what a
        transport asks before it answers a request that would open one."""
        limit = self.limits.max_streams_per_session
        _refuse_at(
            session.open_streams,
            limit,
            f"This session has {limit} streams open (SSE streams, WebSockets and long polls "
            "together), the most one session may (MAX_STREAMS_PER_SESSION): close one first.",
        )

    def stream_opened(self, session: Session) -> None:
        """Count a stream (SSE, WebSocket, long poll) as open; refused past the quota."""
        with self._lock:
            self.check_stream_quota(session)
            session.open_streams += 1

    def stream_closed(self, session: Session) -> None:
        with self._lock:
            session.open_streams -= 1
            self._sessions.touch(session, self._clock())

    # -- helpers ----------------------------------------------------------------------------

    def _check_live(self, session: Session) -> None:
        if session.ended:
            raise ChatError(ErrorCode.UNAUTHORIZED, "This session has ended; log in again.")

    def _check_session_bounds(self, client: str | None) -> None:
        per_client = self.limits.max_sessions_per_client
        _refuse_at(
            self._sessions.per_client[client],
            per_client,
            f"This address holds {per_client} sessions, the most one address may "
            "(MAX_SESSIONS_PER_CLIENT): log one of them out first.",
        )
        _refuse_at(
            len(self._sessions),
            self.limits.max_sessions,
            f"The server holds {self.limits.max_sessions} sessions, the most it allows "
            "(MAX_SESSIONS): try again once some have logged out.",
        )

    def _create_room(self, room: str, client: str | None) -> Room:
        lookalike = self._rooms.lookalikes.holder(room)
        if lookalike is not None:
            raise ChatError(
                ErrorCode.BAD_REQUEST,
                f"The room name '{room}' looks like the room '{lookalike}', already in use.",
            )
        per_client = self.limits.max_rooms_per_client
        _refuse_at(
            self._rooms.per_client[client],
            per_client,
            f"Sessions from this address have made {per_client} rooms that still exist, the "
            "most one address may (MAX_ROOMS_PER_CLIENT): join an existing room.",
        )
        _refuse_at(
            len(self._rooms),
            self.limits.max_rooms,
            f"The server holds {self.limits.max_rooms} rooms, the most it allows "
            "(MAX_ROOMS): join an existing room.",
        )
        return self._rooms.create(room, client)

    def _end(self, session: Session) -> None:
        session.ended = True
        now = self._clock()
        for name in session.rooms:
            room = self._rooms.get(name)
            if room is not None:
                self._rooms.remove_member(room, session, now)
        session.rooms.clear()
        self._sessions.remove(session)
        self._storage.close_stream(session.stream)

    def _room_name(self, value: Any) -> str:
        """A room's name from a request: one that exists as given needs no checking (a name
        is its own PRECIS form), which keeps the ~12-50 us of PRECIS off every send."""
        if isinstance(value, str) and value in self._rooms:
            return value
        return checked_name(value, "room name", self.limits.max_name)

    def _user_name(self, value: Any) -> str:
        if isinstance(value, str) and value in self._sessions.by_name:
            return value
        return checked_name(value, "recipient name", self.limits.max_name)

    def _member_of(self, session: Session, room: str) -> Room:
        joined = self._rooms.get(room)
        if joined is None:
            raise ChatError(ErrorCode.NOT_FOUND, f"There is no room named '{room}'.")
        if session.stream not in joined.members:
            raise ChatError(ErrorCode.FORBIDDEN, f"Join the room '{room}' first.")
        return joined


def _refuse_at(held: int, limit: int, detail: str) -> None:
    """limit_reached, saying `detail`, once `held` has come to `limit`."""
    if held >= limit:
        raise ChatError(ErrorCode.LIMIT_REACHED, detail)
