"""Who is logged in: a session holds a name, a token, its de-duplication memory and its rate;
the table of sessions finds them by token, by name and by how long they have been idle."""

import secrets
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from itertools import count

from .limits import Limits
from .lookalikes import LookalikeIndex

_serials = count(1)


class TokenBucket:
    """`rate` sends a second, `burst` at once; a new bucket starts full."""

    __slots__ = ("rate", "burst", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_needed(self, now: float) -> float:
        """Seconds until one send is allowed; 0 when it is allowed now."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass(eq=False, slots=True, weakref_slot=True)
class Session:
    name: str
    token: str
    stream: str  # the storage key of this session's stream, unique for the process's life
    bucket: TokenBucket
    last_seen: float
    cid_memory: int
    client: str | None = None  # the address it logged in from (None: not known)
    rooms: set[str] = field(default_factory=set)
    cids: OrderedDict[str, int] = field(default_factory=OrderedDict)
    open_streams: int = 0
    ended: bool = False

    def remember_cid(self, cid: str, message_id: int) -> None:
        self.cids[cid] = message_id
        if len(self.cids) > self.cid_memory:
            self.cids.popitem(last=False)


def new_session(name: str, limits: Limits, now: float, client: str | None) -> Session:
    return Session(
        name=name,
        token=secrets.token_urlsafe(24),
        stream=f"{name}#{next(_serials)}",
        bucket=TokenBucket(limits.rate_per_second, limits.rate_burst, now),
        last_seen=now,
        cid_memory=limits.cid_memory,
        client=client,
    )


class SessionTable:
    """The live sessions, by token and by name, in the order they were last seen, counted by
    the address they logged in from. State only; the rules are the chat's."""

    def __init__(self) -> None:
        self.by_token: dict[str, Session] = {}
        self.by_name: dict[str, Session] = {}
        self.lookalikes = LookalikeIndex()
        self.per_client: Counter[str | None] = Counter()
        # least recently seen first: idle sessions are found without looking at busy ones
        self._by_activity: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self.by_token)

    def add(self, session: Session) -> None:
        self.by_token[session.token] = session
        self.by_name[session.name] = session
        self._by_activity[session.token] = session
        self.lookalikes.add(session.name)
        self.per_client[session.client] += 1

    def remove(self, session: Session) -> None:
        del self.by_token[session.token]
        del self.by_name[session.name]
        self._by_activity.pop(session.token, None)
        self.lookalikes.discard(session.name)
        self.per_client[session.client] -= 1
        if not self.per_client[session.client]:
            del self.per_client[session.client]

    def touch(self, session: Session, now: float) -> None:
        """The session was seen now (its request arrived, or its stream closed)."""
        session.last_seen = now
        try:
            self._by_activity.move_to_end(session.token)
        except KeyError:
            pass  # it ended meanwhile

    def least_recently_seen(self) -> Session | None:
        return next(iter(self._by_activity.values()), None)
