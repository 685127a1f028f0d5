"""The chat service: the one object every transport talks to.

Every state change happens under one lock, so ids are allocated and appended to every
recipient's stream in the same order: within a stream, ids strictly increase.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ChatError, ErrorCode
from .limits import Limits
from .message import Message
from .sessions import Session, new_session
from .storage import Batch, MemoryStorage, Storage
from .validation import normalize_name, parse_cid, parse_cursor, parse_history_limit, parse_send
from .waiting import Event, ThreadingWaiting, Waiting


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
        self._by_token: dict[str, Session] = {}
        self._by_name: dict[str, Session] = {}
        # room -> {member name: that member's stream key}; a room stays here once created
        self._members: dict[str, dict[str, str]] = {}

    # -- identity ---------------------------------------------------------------------------

    def login(self, name: Any) -> Session:
        name = normalize_name(name, "name", self.limits)
        with self._lock:
            if name in self._by_name:
                raise ChatError(ErrorCode.NAME_TAKEN, f"The name '{name}' is in use.")
            session = new_session(name, self.limits, self._clock())
            self._storage.open_stream(session.stream)
            self._by_name[name] = session
            self._by_token[session.token] = session
            return session

    def authenticate(self, token: str) -> Session | None:
        """The live session holding `token`, marked as seen now; None for an unknown token."""
        session = self._by_token.get(token)
        if session is not None:
            session.last_seen = self._clock()
        return session

    def logout(self, session: Session) -> None:
        with self._lock:
            if session.ended:
                return
            session.ended = True
            for room in session.rooms:
                self._members[room].pop(session.name, None)
            session.rooms.clear()
            del self._by_name[session.name]
            del self._by_token[session.token]
            self._storage.close_stream(session.stream)

    def expire_idle(self) -> list[str]:
        """End the sessions idle (no request, no open stream) past the expiry; their names."""
        deadline = self._clock() - self.limits.session_expiry
        idle = [s for s in self._by_name.values() if s.open_streams == 0 and s.last_seen < deadline]
        for session in idle:
            self.logout(session)
        return [s.name for s in idle]

    # -- rooms ------------------------------------------------------------------------------

    def join(self, session: Session, room: Any) -> tuple[str, list[str]]:
        """Join (idempotent); the room's normalized name and its members."""
        room = normalize_name(room, "room name", self.limits)
        with self._lock:
            self._check_live(session)
            members = self._members.setdefault(room, {})
            members[session.name] = session.stream
            session.rooms.add(room)
            return room, sorted(members)

    def leave(self, session: Session, room: Any) -> str:
        room = normalize_name(room, "room name", self.limits)
        with self._lock:
            members = self._members.get(room)
            if members is not None:
                members.pop(session.name, None)
            session.rooms.discard(room)
            return room

    def rooms(self) -> list[tuple[str, int]]:
        with self._lock:
            return sorted((room, len(m)) for room, m in self._members.items() if m)

    def members(self, session: Session, room: Any) -> tuple[str, list[str]]:
        """A room's normalized name and its members; only members may ask."""
        room = normalize_name(room, "room name", self.limits)
        with self._lock:
            return room, sorted(self._member_of(session, room))

    def history(self, session: Session, room: Any, limit: Any = None) -> list[Message]:
        """A room's newest messages, oldest first; `limit` as `parse_history_limit` takes it."""
        room = normalize_name(room, "room name", self.limits)
        limit = parse_history_limit(limit)
        with self._lock:
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
            request = parse_send(payload, self.limits)
            if request.room is not None:
                owners = self._member_of(session, request.room).values()
            else:
                recipient = self._by_name.get(request.to)
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

    def stream_opened(self, session: Session) -> None:
        session.open_streams += 1

    def stream_closed(self, session: Session) -> None:
        session.open_streams -= 1
        session.last_seen = self._clock()

    # -- helpers ----------------------------------------------------------------------------

    def _check_live(self, session: Session) -> None:
        if session.ended:
            raise ChatError(ErrorCode.UNAUTHORIZED, "This session has ended; log in again.")

    def _member_of(self, session: Session, room: str) -> dict[str, str]:
        members = self._members.get(room)
        if members is None:
            raise ChatError(ErrorCode.NOT_FOUND, f"There is no room named '{room}'.")
        if session.name not in members:
            raise ChatError(ErrorCode.FORBIDDEN, f"Join the room '{room}' first.")
        return members
