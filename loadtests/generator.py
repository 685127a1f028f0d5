"""One load-generating process's share of a run: names, rooms, ledgers, the drain.

Locust runs users in one process (local), or in workers under a master (`--processes N`,
`--master`/`--worker`). Every process that runs users keeps its own rooms and ledgers, so its
counts are exact; the coordinator (the local process, or the master) sums them. The two talk
through Locust's messaging, which a local runner delivers to itself:

    generator → coordinator   chatlab_ready    every local user has joined; rooms are open
    coordinator → generators  chatlab_window   the measurement window starts now
    coordinator → generators  chatlab_drain    stop sending, wait for what is owed, report
    generator → coordinator   chatlab_report   the ledgers' counts and latency samples
"""

import os
import random
import secrets
import time
from collections.abc import Callable
from typing import Any, ClassVar

import gevent
import gevent.event
from locust.env import Environment
from locust.runners import STATE_SPAWNING, MasterRunner, WorkerRunner

from lab.process_usage import cpu_seconds

from .ledger import Ledger
from .options import ScenarioOptions
from .rooms import Room, RoomBook

READY, WINDOW, DRAIN, REPORT = "chatlab_ready", "chatlab_window", "chatlab_drain", "chatlab_report"
_TAGS = {"short_poll": "s", "long_poll": "l", "sse": "e", "websocket": "w"}


class Generator:
    """The generator role. One per process; reset at every test start."""

    current: "Generator | None" = None
    # counters a locustfile adds (e.g. the wire bytes of its clients' sockets): read at the
    # window's start and at the drain's end, reported with the ledgers
    meters: ClassVar[dict[str, Callable[[], dict[str, int]]]] = {}

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.reset()

    def reset(self) -> None:
        self.options = ScenarioOptions.from_parsed(self.environment.parsed_options)
        # forked workers start with their parent's random state: names get the pid and the OS's
        # randomness, and every process reseeds (send phases, private recipients)
        self.prefix = f"{os.getpid() % 4096:x}{secrets.token_hex(2)}"
        random.seed()
        self.books: dict[str, RoomBook] = {}
        self.ledgers: dict[str, Ledger] = {}
        self.users: set[Any] = set()
        self.failed = 0  # users whose set-up failed
        self.settled = gevent.event.Event()
        self.stop_sending = gevent.event.Event()
        self.idle_senders = gevent.event.Event()
        self.idle_senders.set()
        self.inflight = 0
        self.spawned = False
        self.ready_sent = False
        self.window_start: float | None = None
        self.meters_start: dict[str, dict[str, int]] = {}
        self.cpu_start = cpu_seconds()
        self.reported = False
        self._counter = 0

    @property
    def sending(self) -> bool:
        return not self.stop_sending.is_set()

    # -- reporting to Locust ----------------------------------------------------------------

    def fire(self, request_type: str, name: str, response_time: float | None, length: int,
             exception: BaseException | None) -> None:  # fmt: skip
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=response_time,
            response_length=length,
            exception=exception,
            context={},
        )

    # -- users ------------------------------------------------------------------------------

    def enroll(self, transport: str) -> tuple[str, Room, Ledger]:
        """A new user's name, its room, and the ledger of its transport."""
        book = self.books.get(transport)
        if book is None:
            prefix = f"{self.prefix}{_TAGS.get(transport, 'x')}"
            book = self.books[transport] = RoomBook(
                prefix, self.options.room_size, gevent.event.Event
            )
            self.ledgers[transport] = Ledger(on_settled=self.settled.set)
        if self.environment.runner.state == STATE_SPAWNING:
            self.spawned = False  # more users are coming (a ramp-up from the web UI)
        self._counter += 1
        name = f"{book.prefix}u{self._counter}"
        return name, book.assign(name), self.ledgers[transport]

    def user_ready(self, transport: str, room: Room, user: Any) -> None:
        self.users.add(user)
        self.books[transport].ready(room, user.name)
        self._progress()

    def user_failed(self, transport: str, room: Room, name: str) -> None:
        self.failed += 1
        self.books[transport].abandon(room, name)
        self._progress()

    def user_stopped(self, transport: str, user: Any) -> None:
        self.users.discard(user)
        if not self.reported:
            self.ledgers[transport].depart(user.name)

    def spawning_complete(self) -> None:
        self.spawned = True
        self._progress()

    def _progress(self) -> None:
        """Open the rooms that cannot fill once every user of this process has a room; tell the
        coordinator once every user is ready and every room open."""
        user_count = self.environment.runner.user_count
        if not self.spawned or self._counter < user_count:
            return  # users are still being started, or have not yet asked for a room
        for book in self.books.values():
            book.open_partial_rooms()
        if self.ready_sent or len(self.users) + self.failed < user_count:
            return
        if all(book.all_open() for book in self.books.values()):
            self.ready_sent = True
            self.environment.runner.send_message(READY, {"users": len(self.users)})

    # -- sending ----------------------------------------------------------------------------

    def send_started(self) -> None:
        self.inflight += 1
        self.idle_senders.clear()

    def send_ended(self) -> None:
        self.inflight -= 1
        if self.inflight == 0:
            self.idle_senders.set()

    def pause(self, seconds: float) -> None:
        """Sleep, but wake as soon as sending must stop."""
        self.stop_sending.wait(seconds)

    # -- window and drain -------------------------------------------------------------------

    def window_opened(self, start: float) -> None:
        self.window_start = start
        self.cpu_start = cpu_seconds()
        self.meters_start = {name: read() for name, read in self.meters.items()}

    def drain(self) -> dict[str, Any]:
        """Stop sending, wait (bounded) for every owed delivery; this process's report."""
        if self.reported:
            return {}
        self.stop_sending.set()
        self.idle_senders.wait(self.options.drain_timeout)
        deadline = time.monotonic() + self.options.drain_timeout
        while self._pending() and (left := deadline - time.monotonic()) > 0:
            self.settled.clear()
            if self._pending():
                self.settled.wait(min(left, 0.5))
        end = time.time()
        for user in list(self.users):
            user.chat.finish_resume()
        self.reported = True
        started = self.window_start if self.window_start is not None else end
        return {
            "pid": os.getpid(),
            "users": len(self.users),
            "cpu_seconds": cpu_seconds() - self.cpu_start,
            "wall_seconds": end - started,
            "window_end": end,
            "meters": {
                name: {"start": self.meters_start.get(name), "end": read()}
                for name, read in self.meters.items()
            },  # fmt: skip
            "transports": {
                transport: ledger.report(self.window_start, end).to_wire()
                for transport, ledger in self.ledgers.items()
            },
        }

    def _pending(self) -> int:
        return sum(ledger.pending for ledger in self.ledgers.values())


START_WAIT_S = 60.0  # how long a run waits for the sweep's start file


def wait_for_start_file(environment: Environment) -> None:
    """Hold the users back (test_start fires before any is spawned) until the sweep's start
    file exists: Locust loads while the sweep starts the server and the link."""
    path = ScenarioOptions.from_parsed(environment.parsed_options).lab_start_file
    if not path:
        return
    deadline = time.monotonic() + START_WAIT_S
    for _ in range(int(START_WAIT_S / 0.005) + 1):  # bounded: one look every 5 ms
        if os.path.exists(path) or time.monotonic() > deadline:
            break
        gevent.sleep(0.005)
    if not os.path.exists(path):
        raise RuntimeError(f"the sweep's start file {path} did not appear in {START_WAIT_S:g} s")


def install(environment: Environment, coordinate: Callable[[Environment], None]) -> None:
    """Give this process its roles (the `init` event calls this): a local process is
    generator and coordinator, a worker a generator, the master the coordinator."""
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        environment.events.test_start.add_listener(lambda **_: wait_for_start_file(environment))
    if not isinstance(runner, MasterRunner):
        _install_generator(environment)
    if not isinstance(runner, WorkerRunner):
        coordinate(environment)


def _install_generator(environment: Environment) -> None:
    generator = Generator.current = Generator(environment)
    runner = environment.runner
    environment.events.test_start.add_listener(lambda **_: generator.reset())
    environment.events.spawning_complete.add_listener(lambda **_: generator.spawning_complete())

    def on_window(environment: Environment, msg: Any, **_: Any) -> None:
        generator.window_opened(float(msg.data["start"]))

    def on_drain(environment: Environment, msg: Any, **_: Any) -> None:
        report = generator.drain()
        if report:
            environment.runner.send_message(REPORT, report)

    runner.register_message(WINDOW, on_window)
    # A worker drains in its own greenlet, so that it keeps answering the master meanwhile.
    runner.register_message(DRAIN, on_drain, concurrent=isinstance(runner, WorkerRunner))
