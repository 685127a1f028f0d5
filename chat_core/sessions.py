"""Who is logged in: a session holds a name, a token, its de-duplication memory and its rate."""

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import count

from .limits import Limits

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
    rooms: set[str] = field(default_factory=set)
    cids: OrderedDict[str, int] = field(default_factory=OrderedDict)
    open_streams: int = 0
    ended: bool = False

    def remember_cid(self, cid: str, message_id: int) -> None:
        self.cids[cid] = message_id
        if len(self.cids) > self.cid_memory:
            self.cids.popitem(last=False)


def new_session(name: str, limits: Limits, now: float) -> Session:
    return Session(
        name=name,
        token=secrets.token_urlsafe(24),
        stream=f"{name}#{next(_serials)}",
        bucket=TokenBucket(limits.rate_per_second, limits.rate_burst, now),
        last_seen=now,
        cid_memory=limits.cid_memory,
    )
