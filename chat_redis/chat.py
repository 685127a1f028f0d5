"""The chat with its state in Redis, shared by every process that names the same store.

`RedisChat` answers every call `chat_core.Chat` answers, with the same rules and the same
refusals (chat_core.refusals): names are checked here (PRECIS, look-alike skeletons) and the
rules that read shared state run in Redis as one script each (chat_redis.scripts), so that
two processes can never both take a name, pass a bound, or interleave ids in a stream.

What stays in the process is what cannot be shared: the connections waiting on a stream
(woken through `wake(...)`, which the process's one pub/sub subscriber calls), a cache of
the sessions it has seen (so that a session's wire counters live as long as it does), and
a cache of decoded messages (a room's message is decoded once per process, not once per
recipient). A send is answered only once Redis has run its script: what Redis accepted is
in every recipient's stream; what it refused touched nothing.

When Redis cannot be reached, every call raises `unavailable` (503); nothing is retried
here, so a send is never run twice (a client that retries with its `cid` gets the first id).
"""

import os
import secrets
import socket
import time
from bisect import bisect_right
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from chat_core import lookalikes, refusals
from chat_core.chat import SendResult
from chat_core.errors import ChatError, ErrorCode
from chat_core.limits import Limits
from chat_core.message import Message, dumps
from chat_core.names import checked_name
from chat_core.storage import Batch
from chat_core.validation import parse_cid, parse_cursor, parse_history_limit, parse_send
from chat_core.waiting import Event, ThreadingWaiting, Waiting

from .scripts import ALL

HOUSEKEEPING_BATCH = 1000
NO_CLIENT = "-"  # the address of a session whose address is not known: one of its own
OPEN_STREAMS_TTL = 10  # seconds a process's open streams count after its last heartbeat
_DECODED_KEPT = 20_000  # decoded messages kept per process
_SESSIONS_KEPT = 20_000  # sessions kept per process (their wire counters live with them)
REDIS_CONNECTIONS = 128  # per process; 200 users' long polls at once needed more than 100
TAIL_KEPT = 1000  # messages kept per stream waited on (STREAM_RETENTION's default)


@dataclass(eq=False, slots=True, weakref_slot=True)
class SharedSession:
    """A session as one process sees it; its truth is in Redis."""

    name: str
    token: str
    stream: str
    client: str | None
    rooms: set[str] = field(default_factory=set)
    open_streams: int = 0  # streams this process holds open for it
    ended: bool = False


class RedisChat:
    def __init__(
        self,
        url: str,
        limits: Limits | None = None,
        waiting: Waiting | None = None,
        prefix: str = "chatlab:",
        clock: Callable[[], float] = time.time,
        timeout: float = 2.0,
    ) -> None:
        self.limits = limits or Limits()
        self.url = url
        self.prefix = prefix
        self.process = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.wake_channel = (prefix + "wake").encode()
        self._waiting = waiting or ThreadingWaiting()
        self._clock = clock
        # a blocking pool: a burst of calls past REDIS_CONNECTIONS waits its turn (a greenlet
        # switch under gevent) rather than failing; redis-py's default pool refuses past 100
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_CONNECTIONS,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # a send must never run twice
        )
        self.redis = redis.Redis(connection_pool=pool)
        self._scripts = {name: self.redis.register_script(body) for name, body in ALL.items()}
        self._listeners: dict[str, list[Event]] = {}
        self._sessions: OrderedDict[str, SharedSession] = OrderedDict()
        self._decoded: OrderedDict[int, Message] = OrderedDict()
        # streams open here, by stream key: the truth the heartbeat restores in Redis when
        # a close could not be told to it
        self._open: Counter[str] = Counter()
        self._open_told = True
        self._tails: dict[str, Tail] = {}  # the streams this process waits on
        self._newest_seen = 0  # the newest id this process has seen: a cursor at most it is valid
        lookalikes.load()

    # -- talking to Redis -------------------------------------------------------------------

    def _run(self, script: str, *args: Any) -> Any:
        with self._reachable():
            return self._scripts[script](args=[self.prefix, *args])

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as error:
            raise ChatError(
                ErrorCode.UNAVAILABLE,
                f"The chat's shared store (Redis at {self.where()}) is not answering "
                f"({type(error).__name__}: {error}); nothing was changed, try again shortly.",
            ) from None

    def where(self) -> str:
        kwargs = self.redis.connection_pool.connection_kwargs
        return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"

    def ping(self) -> None:
        with self._reachable():
            self.redis.ping()

    # -- wakeups, from the process's subscriber ----------------------------------------------

    def wake(self, payload: bytes) -> None:
        """Take a message of the wake channel: the new message's JSON (empty when streams
        ended) on the first line, then the stream keys it went to. Each stream this process
        waits on gets the message in its tail, and its connections are woken."""
        head, _, streams = payload.partition(b"\n")
        message = self._decode(head) if head else None
        if message is not None and message.id > self._newest_seen:
            self._newest_seen = message.id
        listeners, tails = self._listeners, self._tails
        for stream in streams.decode().split("\n"):
            events = listeners.get(stream)
            if not events:
                continue
            tail = tails.get(stream)
            if tail is not None:
                if message is None:
                    tail.forget()  # ended: the reader asks Redis, which says so
                else:
                    tail.append(message)
            for event in events:
                event.set()

    def wake_all(self) -> None:
        """Wake every waiting connection, and forget every tail: after the subscriber lost
        Redis, messages may have been missed; each reader reads again from Redis."""
        for tail in self._tails.values():
            tail.forget()
        for events in self._listeners.values():
            for event in events:
                event.set()

    def heartbeat(self) -> None:
        """Keep this process's open streams counted (see OPEN_STREAMS_TTL), and tell Redis
        again what they are if a change could not be told when it happened."""
        if self._open_told:
            self._run("heartbeat", self.process, OPEN_STREAMS_TTL)
            return
        counts = [str(value) for pair in self._open.items() for value in pair]
        self._run("restore_open", self.process, OPEN_STREAMS_TTL, *counts)
        self._open_told = True

    # -- identity ---------------------------------------------------------------------------

    def login(self, name: Any, client: str | None = None) -> SharedSession:
        address = client or NO_CLIENT
        given = name
        try:
            name = checked_name(name, "name", self.limits.max_name)
        except ChatError:
            self._login_script("", "", address, "")  # a bound, if reached, is said first
            raise
        token = secrets.token_urlsafe(24)
        stream = self._login_script(name, lookalikes.skeleton(name), address, token, given)
        session = SharedSession(name=name, token=token, stream=stream, client=client)
        self._keep(session)
        return session

    def _login_script(self, name: str, skel: str, client: str, token: str,
                      given: Any = None) -> str:  # fmt: skip
        limits = self.limits
        answer = self._run(
            "login", name, skel, client, token, self._clock(),
            limits.max_sessions, limits.max_sessions_per_client, limits.rate_burst,
        )  # fmt: skip
        outcome = answer[0].decode()
        if outcome == "per_client":
            raise refusals.sessions_per_client(limits)
        if outcome == "all":
            raise refusals.sessions_in_all(limits)
        if outcome == "taken":
            raise refusals.name_taken(name, given)
        if outcome == "lookalike":
            raise refusals.name_lookalike(name, answer[1].decode())
        return answer[1].decode() if len(answer) > 1 else ""

    def authenticate(self, token: str) -> SharedSession | None:
        found = self._run("authenticate", token, self._clock())
        if found is None:
            session = self._sessions.pop(token, None)
            if session is not None:
                session.ended = True
            return None
        stream, name, client, rooms = found
        session = self._sessions.get(token)
        if session is None:
            address = client.decode()
            session = SharedSession(
                name=name.decode(),
                token=token,
                stream=stream.decode(),
                client=None if address == NO_CLIENT else address,
            )
            self._keep(session)
        else:
            self._sessions.move_to_end(token)
        session.rooms = {room.decode() for room in rooms}
        return session

    def _keep(self, session: SharedSession) -> None:
        self._sessions[session.token] = session
        if len(self._sessions) > _SESSIONS_KEPT:
            self._sessions.popitem(last=False)

    def logout(self, session: SharedSession) -> None:
        self._run("logout", session.stream, self._clock())
        self._ended(session)

    def _ended(self, session: SharedSession) -> None:
        session.ended = True
        session.rooms.clear()
        self._sessions.pop(session.token, None)

    def expire_idle(self, at_most: int = HOUSEKEEPING_BATCH) -> list[str]:
        """As Chat's; nothing (and no error) while Redis is unreachable: housekeeping waits."""
        now = self._clock()
        try:
            ended = self._run("expire_idle", now - self.limits.session_expiry, at_most, now)
        except ChatError:
            return []
        return [name.decode() for name in ended]

    # -- rooms ------------------------------------------------------------------------------

    def join(self, session: SharedSession, room: Any) -> tuple[str, list[str]]:
        room = _checked(room, "room name", self.limits.max_name)
        limits = self.limits
        answer = self._run(
            "join", session.stream, room, lookalikes.skeleton(room), session.client or NO_CLIENT,
            limits.max_rooms_per_session, limits.max_rooms_per_client, limits.max_rooms,
            self._clock(),
        )  # fmt: skip
        outcome = answer[0].decode()
        if outcome != "ok":
            raise self._refusal(session, outcome, room, answer)
        session.rooms.add(room)
        return room, sorted(name.decode() for name in answer[1])

    def leave(self, session: SharedSession, room: Any) -> str:
        room = _checked(room, "room name", self.limits.max_name)
        if self._run("leave", session.stream, room, self._clock()) == b"ended":
            raise self._refusal(session, "ended", room)
        session.rooms.discard(room)
        return room

    def forget_empty_rooms(self, at_most: int = HOUSEKEEPING_BATCH) -> list[str]:
        before = self._clock() - self.limits.room_grace
        try:
            forgotten = self._run("forget_empty_rooms", before, at_most)
        except ChatError:
            return []  # housekeeping waits for Redis
        return [room.decode() for room in forgotten]

    def rooms(self) -> list[tuple[str, int]]:
        flat = self._run("occupied_rooms")
        return sorted((flat[i].decode(), int(flat[i + 1])) for i in range(0, len(flat), 2))

    def members(self, session: SharedSession, room: Any) -> tuple[str, list[str]]:
        room = _checked(room, "room name", self.limits.max_name)
        answer = self._run("members", session.stream, room)
        if answer[0] != b"ok":
            raise self._refusal(session, answer[0].decode(), room)
        return room, sorted(name.decode() for name in answer[1:])

    def history(self, session: SharedSession, room: Any, limit: Any = None) -> list[Message]:
        room = _checked(room, "room name", self.limits.max_name)
        limit = parse_history_limit(limit)
        answer = self._run("history", session.stream, room, limit)
        if answer[0] != b"ok":
            raise self._refusal(session, answer[0].decode(), room)
        return [self._decode(raw) for raw in answer[1:]]

    def _refusal(self, session: SharedSession, outcome: str, room: str,
                 answer: Any = None) -> ChatError:  # fmt: skip
        limits = self.limits
        if outcome == "ended":
            self._ended(session)
            return refusals.session_ended()
        if outcome == "no_room":
            return refusals.no_such_room(room)
        if outcome == "forbidden":
            return refusals.not_a_member(room)
        if outcome == "per_session":
            return refusals.rooms_per_session(limits)
        if outcome == "lookalike":
            return refusals.room_lookalike(room, answer[1].decode())
        if outcome == "per_client":
            return refusals.rooms_per_client(limits)
        if outcome == "all":
            return refusals.rooms_in_all(limits)
        raise AssertionError(f"unknown outcome {outcome!r}")

    # -- messages ---------------------------------------------------------------------------

    def send(self, session: SharedSession, payload: Any) -> SendResult:
        if not isinstance(payload, dict):
            raise refusals.not_an_object()
        limits = self.limits
        cid = parse_cid(payload, limits)
        try:
            request = parse_send(payload, limits, self._room_name, self._user_name)
        except ChatError:
            if cid is not None and (first := self._first_id(session, cid)) is not None:
                return SendResult(id=first, created=False)  # a repeat is never judged again
            raise
        now = self._clock()
        fields = {"room": request.room, "to": request.to, "from": session.name,
                  "text": request.text, "at": now, "cid": cid, "ts": request.ts}  # fmt: skip
        after_id = dumps(fields)[1:]  # the JSON of Message.as_dict, all but '{"id":N,'
        target = request.room if request.room is not None else request.to
        answer = self._run(
            "send", session.stream, "room" if request.room is not None else "to", target,
            cid or "", now, limits.rate_per_second, limits.rate_burst, limits.stream_retention,
            limits.room_retention, limits.cid_memory, after_id,
        )  # fmt: skip
        outcome = answer[0].decode()
        if outcome == "ok":
            return SendResult(id=int(answer[1]), created=True)
        if outcome == "dup":
            return SendResult(id=int(float(answer[1])), created=False)
        if outcome == "rate":
            raise refusals.rate_limited(limits, float(answer[1]))
        if outcome == "no_user":
            raise refusals.no_such_user(target)
        raise self._refusal(session, outcome, target)

    def _first_id(self, session: SharedSession, cid: str) -> int | None:
        with self._reachable():
            score = self.redis.zscore(f"{self.prefix}cids:{session.stream}", cid)
        return None if score is None else int(score)

    def _room_name(self, value: Any) -> str:
        return _checked(value, "room name", self.limits.max_name)

    def _user_name(self, value: Any) -> str:
        return _checked(value, "recipient name", self.limits.max_name)

    def newest_id(self) -> int:
        with self._reachable():
            newest = int(self.redis.get(self.prefix + "id") or 0)
        self._newest_seen = max(self._newest_seen, newest)
        return newest

    def cursor(self, since: Any) -> int:
        """As Chat's; a `since` no newer than the newest id this process has seen needs no
        look in Redis."""
        if since is not None and since != "":
            try:
                return parse_cursor(since, self._newest_seen)
            except ChatError:
                pass  # newer than what this process has seen, or not a cursor: ask Redis
        return parse_cursor(since, self.newest_id())

    def read(self, session: SharedSession, after: int, limit: int | None = None) -> Batch:
        if session.ended:
            return Batch(messages=[], cursor=after, ended=True)
        limit = limit or self.limits.poll_page
        tail = self._tails.get(session.stream)
        if tail is not None and tail.holds_all_after(after):
            return tail.read(after, limit)
        epoch = None if tail is None else tail.epoch
        answer = self._run("read", session.stream, after, limit)
        if answer is None:
            self._ended(session)
            return Batch(messages=[], cursor=after, ended=True)
        gap, remaining, *page = answer
        gap_oldest = int(gap) or None
        if not page:
            batch = Batch(messages=[], cursor=after, gap_oldest=gap_oldest)
        else:
            messages = [self._decode(raw) for raw in page]
            batch = Batch(messages, messages[-1].id, gap_oldest, int(remaining))
        self._newest_seen = max(self._newest_seen, batch.cursor)
        if tail is not None and epoch is not None and not batch.remaining:
            tail.complete_after(batch.cursor, epoch)
        return batch

    def _decode(self, raw: bytes) -> Message:
        """The message of a stored JSON, decoded once per process (the JSON starts with
        '{"id":N,')."""
        message_id = int(raw[6 : raw.index(b",", 6)])
        decoded = self._decoded
        message = decoded.get(message_id)
        if message is None:
            message = decoded[message_id] = Message.from_json(raw)
            if len(decoded) > _DECODED_KEPT:
                decoded.popitem(last=False)
        return message

    def wait(self, session: SharedSession, after: int, timeout: float,
             limit: int | None = None) -> Batch:  # fmt: skip
        limit = limit or self.limits.poll_page
        event = self._waiting.event()
        self.listen(session, event)  # before reading: a message after the read wakes it
        try:
            batch = self.read(session, after, limit)
            if batch.messages or batch.gap_oldest is not None or batch.ended:
                return batch
            event.wait(timeout)
        finally:
            self.unlisten(session, event)
        return self.read(session, after, limit)

    def listen(self, session: SharedSession, event: Event) -> None:
        if session.ended:
            event.set()
            return
        events = self._listeners.get(session.stream)
        if events is None:
            events = self._listeners[session.stream] = []
            self._tails[session.stream] = Tail()
        events.append(event)

    def unlisten(self, session: SharedSession, event: Event) -> None:
        events = self._listeners.get(session.stream)
        if events is not None and event in events:
            events.remove(event)
            if not events:
                del self._listeners[session.stream]
                del self._tails[session.stream]

    def backlog(self, session: SharedSession, after: int) -> int:
        """As Chat's; 0 while Redis is unreachable (no consumer is judged too slow then)."""
        tail = self._tails.get(session.stream)
        if tail is not None and tail.holds_all_after(after):
            return tail.count_after(after)
        try:
            with self._reachable():
                key = f"{self.prefix}st:{session.stream}"
                return self.redis.zcount(key, f"({after}", "+inf")
        except ChatError:
            return 0

    def check_stream_quota(self, session: SharedSession) -> None:
        if self._run("open_streams", session.stream) >= self.limits.max_streams_per_session:
            raise refusals.streams_per_session(self.limits)

    def stream_opened(self, session: SharedSession) -> None:
        opened = self._run(
            "stream_opened",
            session.stream,
            self.process,
            self.limits.max_streams_per_session,
            OPEN_STREAMS_TTL,
        )
        if not opened:
            raise refusals.streams_per_session(self.limits)
        self._open[session.stream] += 1
        session.open_streams += 1

    def stream_closed(self, session: SharedSession) -> None:
        """As Chat's; never fails: if Redis cannot be told now, the heartbeat tells it."""
        session.open_streams -= 1
        self._open[session.stream] -= 1
        if self._open[session.stream] <= 0:
            del self._open[session.stream]
        try:
            self._run("stream_closed", session.stream, self.process, self._clock())
        except ChatError:
            self._open_told = False


class Tail:
    """The newest messages of a stream this process waits on, as the subscriber saw them
    published (in id order), so that its readers need not ask Redis for each one.

    Once a read from Redis, sent while the tail was collecting, found nothing newer than its
    cursor, the tail holds every message newer than that cursor (`complete_from`): all that
    was published after the read reached the subscriber, which was subscribed before it.
    `forget` (the subscriber lost Redis, or the stream ended) starts a new epoch: a read sent
    before it proves nothing. Keeps TAIL_KEPT messages; a reader behind them, or any reader
    while the tail is not complete, reads from Redis, which applies the gap rule.
    """

    __slots__ = ("messages", "complete_from", "dropped_upto", "epoch")

    def __init__(self) -> None:
        self.messages: deque[Message] = deque()
        self.complete_from: int | None = None
        self.dropped_upto = 0  # the newest id dropped to keep TAIL_KEPT
        self.epoch = 0

    def append(self, message: Message) -> None:
        messages = self.messages
        if messages and message.id <= messages[-1].id:
            return
        messages.append(message)
        if len(messages) > TAIL_KEPT:
            self.dropped_upto = messages.popleft().id
            if self.complete_from is not None:
                self.complete_from = max(self.complete_from, self.dropped_upto)

    def complete_after(self, cursor: int, epoch: int) -> None:
        """A read sent in `epoch` found nothing newer than `cursor` in Redis."""
        if epoch != self.epoch:
            return
        bound = max(cursor, self.dropped_upto)
        self.complete_from = bound if self.complete_from is None else min(self.complete_from, bound)

    def forget(self) -> None:
        self.epoch += 1
        self.complete_from = None
        self.dropped_upto = 0
        self.messages.clear()

    def holds_all_after(self, after: int) -> bool:
        return self.complete_from is not None and after >= self.complete_from

    def _start(self, after: int) -> int:
        messages = self.messages
        if not messages or messages[-1].id <= after:
            return len(messages)
        return bisect_right(messages, after, key=_message_id)

    def read(self, after: int, limit: int) -> Batch:
        messages = self.messages
        start = self._start(after)
        if start == len(messages):
            return Batch(messages=[], cursor=after)
        end = min(len(messages), start + limit)
        page = [messages[i] for i in range(start, end)]
        return Batch(messages=page, cursor=page[-1].id, remaining=len(messages) - end)

    def count_after(self, after: int) -> int:
        return len(self.messages) - self._start(after)


def _message_id(message: Message) -> int:
    return message.id


def _checked(value: Any, what: str, max_length: int) -> str:
    """checked_name, remembering names that passed (the rule is a pure function of the
    name, and PRECIS costs ~12-50 us a name)."""
    if isinstance(value, str):
        return _checked_text(value, what, max_length)
    return checked_name(value, what, max_length)


@lru_cache(maxsize=8192)
def _checked_text(value: str, what: str, max_length: int) -> str:
    return checked_name(value, what, max_length)
