"""What every chat client shares: identity, the receive loop that resumes from its cursor,
and the counting of what resuming brought back.

A client does the protocol; it reports every request to Locust through `Fire`, and every
message it receives to its `Inbox` (the scenario, which keeps the ledger).
"""

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import gevent

# fire(request_type, name, response_time_ms, response_length, exception)
Fire = Callable[[str, str, float | None, int, BaseException | None], None]

# Sends a client keeps in flight at once (a burst's): the connections a browser opens to one
# host. Over a link with a round trip, one at a time would pace a burst at one message per RTT.
SENDS_IN_FLIGHT = 6
BACKOFF_FIRST = 0.25  # seconds before the first reconnect attempt; doubles up to the last
BACKOFF_LAST = 2.0


class Inbox(Protocol):
    def message(self, message: dict[str, Any], arrival: float, size: int) -> None: ...
    def gap(self) -> None: ...
    def reconnected(self, resumed: int) -> None: ...


class SendFailed(Exception):
    """A send was refused or got no answer; the message may or may not exist."""


class SetupFailed(Exception):
    """Login, join or the first connection did not work."""


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """A client's share of the scenario's options (loadtests.options.ScenarioOptions)."""

    base_url: str
    header_profile: str
    poll_interval: float
    long_poll_timeout: float
    drop_every: float  # cut the receiving connection about this often (0: never)
    new_connection_per_request: bool = False  # HTTP: a fresh TCP connection per receive request
    request_timeout: float = 20.0


class ChatClient(ABC):
    transport: ClassVar[str]

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        self.name = name
        self.settings = settings
        self.fire = fire
        self.inbox = inbox
        self.cursor = 0
        self.token: str | None = None
        self.cookie: str | None = None
        self._closing = False
        self._cuts = 0  # receiving connections cut on purpose (their failures go unreported)
        self._resume_before: float | None = None  # count messages sent before this moment
        self._resumed = 0
        self._healthy = False
        self._greenlets: list[gevent.Greenlet] = []

    # -- the protocol, per transport --------------------------------------------------------

    @abstractmethod
    def login(self) -> None: ...

    @abstractmethod
    def join(self, room: str) -> None: ...

    @abstractmethod
    def send(self, text: str, cid: str, ts: float, room: str | None = None,
             to: str | None = None) -> int:  # fmt: skip
        """Send and wait for the server's answer; the message id, or SendFailed."""

    @abstractmethod
    def _receive(self) -> None:
        """Receive from `self.cursor` until the connection ends (return) or fails (raise)."""

    @abstractmethod
    def _cut(self) -> None:
        """Break the receiving connection abruptly, as a network failure would."""

    @abstractmethod
    def release_api(self) -> None:
        """Close the connection used for API calls (a user that will not send)."""

    def close(self) -> None:
        self._closing = True
        for greenlet in self._greenlets:
            greenlet.kill(block=False)

    # -- receiving, shared ------------------------------------------------------------------

    def start_receiving(self) -> None:
        self._greenlets.append(gevent.spawn(self._receive_forever))
        if self.settings.drop_every > 0:
            self._greenlets.append(gevent.spawn(self._drop_now_and_then))

    def _receive_forever(self) -> None:
        backoff = BACKOFF_FIRST
        while not self._closing:
            self._healthy = False
            cuts = self._cuts
            try:
                self._receive()
                delay = 0.0  # the server ended a healthy connection: reconnect at once
            except gevent.GreenletExit:
                raise
            except Exception as error:  # noqa: BLE001 - any failure means: reconnect
                if self._closing:
                    return
                if self._cuts == cuts:
                    self.fire("receive", f"{self.transport} connection lost", None, 0, error)
                if self._healthy:
                    backoff = BACKOFF_FIRST  # it worked until now: start the backoff afresh
                delay, backoff = backoff, min(backoff * 2, BACKOFF_LAST)
            if self._closing:
                return
            if delay:
                gevent.sleep(delay)
            self._begin_resume()

    def connection_healthy(self) -> None:
        """The receiving connection works (opened, or answered a poll)."""
        self._healthy = True

    def _drop_now_and_then(self) -> None:
        every = self.settings.drop_every
        gevent.sleep(random.uniform(0.5, 1.5) * every)
        while not self._closing:
            self._cuts += 1
            self._cut()
            gevent.sleep(random.uniform(0.5, 1.5) * every)

    def _begin_resume(self) -> None:
        """A new connection is about to resume from the cursor: from now until the first
        message sent after this moment, what arrives is what resuming brought back."""
        if self._resume_before is not None:
            self.inbox.reconnected(self._resumed)
        self._resume_before = time.time()
        self._resumed = 0

    def deliver(self, message: dict[str, Any], arrival: float, size: int) -> None:
        """Hand one received message to the inbox, moving the cursor past it."""
        self.cursor = max(self.cursor, message["id"])
        if self._resume_before is not None:
            ts = message.get("ts")
            if ts is not None and ts < self._resume_before:
                self._resumed += 1
            else:
                self.inbox.reconnected(self._resumed)
                self._resume_before = None
        self.inbox.message(message, arrival, size)

    def finish_resume(self) -> None:
        """Count a pending resume at the end of the run."""
        if self._resume_before is not None:
            self.inbox.reconnected(self._resumed)
            self._resume_before = None
