"""Locustfile part: a capacity run. Steps the user count up, measures each step, and stops at
the first step that does not count (loadtests/capacity.py judges it).

    locust -f loadtests/ws.py,loadtests/capacity_shape.py --headless --host http://127.0.0.1:5000
    locust -f loadtests/socketio_polling.py,loadtests/capacity_shape.py --headless \\
        --host http://127.0.0.1:5002 --capacity-start=100 --capacity-largest=6400

Each step: Locust starts the step's users (`StepUp`, a `LoadTestShape`) while nobody sends;
once every one of them has set up and every room is open, sending resumes; after
`--capacity-settle` seconds (default: one send interval, so that every sender is under way)
the step is measured for `--capacity-hold` seconds — the server's CPU from its
`/api/metrics` (read from `--lab-server` when the users go through a link), how busy its
cores were in all (every process's share: the machine may be shared), this process's CPU,
the latency of every delivery that arrived, the requests that failed — then sending pauses
and what is owed is waited for (`--capacity-drain`): what is still owed then is lost. The
result (`capacity.json` in --lab-output, and printed) is the largest user count that
counted. One load-generating process only (no --processes, no master and workers): the
generator's CPU is this process's.
"""

import json
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gevent
from locust import LoadTestShape, events
from locust.env import Environment

from lab.process_usage import cores_busy_seconds, cpu_seconds
from loadtests.capacity import (
    CAPACITY_FILE,
    P99_LIMIT_MS,
    Capacity,
    StepMeasure,
    StepVerdict,
    capacity,
    judge,
    step_users,
)
from loadtests.coordinator import fetch_metrics, log
from loadtests.generator import Generator
from loadtests.ledger import Ledger
from loadtests.options import ScenarioOptions

_READY_POLL = 0.1  # s between looks at how many users have set up
_OPTIONS: tuple[tuple[str, type, Any, str], ...] = (
    ("--capacity-start", int, 50, "capacity: users in the first step"),
    ("--capacity-factor", float, 2.0, "capacity: each step this many times the one before"),
    ("--capacity-largest", int, 3200, "capacity: users in the largest step"),
    ("--capacity-hold", float, 10.0, "capacity: seconds each step is measured"),
    ("--capacity-settle", float, 0.0,
     "capacity: seconds of sending before a step is measured (0: one send interval)"),
    ("--capacity-drain", float, 5.0,
     "capacity: seconds to wait after a step for what is owed; still owed then is lost"),
    ("--capacity-p99-ms", float, P99_LIMIT_MS, "capacity: a step counts up to this p99"),
)  # fmt: skip


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    for flag, kind, default, help_text in _OPTIONS:
        parser.add_argument(flag, type=kind, default=default, help=help_text,
                            include_in_web_ui=False)  # fmt: skip


class StepUp(LoadTestShape):
    """The user count of the step under way; None (the run ends) once the steps are over."""

    def __init__(self) -> None:
        super().__init__()
        self.driver: CapacityDriver | None = None

    def tick(self) -> tuple[int, float] | None:
        if self.driver is None:
            assert self.runner is not None
            if Generator.current is None:
                log.error("chatlab: a capacity run needs one local load generator")
                return None
            self.driver = CapacityDriver(self.runner.environment, Generator.current)
        return self.driver.tick()


def spawn_rate(increase: int) -> float:
    """Users started per second: the step's new users in about two seconds (as the sweep's
    runs ramp), within what one server core can log in and connect."""
    return float(min(500, max(10, math.ceil(increase / 2))))


class CapacityDriver:
    """Runs the steps in its own greenlet; the shape asks it for the user count."""

    def __init__(self, environment: Environment, generator: Generator) -> None:
        self.environment = environment
        self.generator = generator
        parsed = environment.parsed_options
        self.scenario = ScenarioOptions.from_parsed(parsed)
        self.plan = step_users(parsed.capacity_start, parsed.capacity_factor,
                               parsed.capacity_largest, self.scenario.room_size)  # fmt: skip
        self.hold = float(parsed.capacity_hold)
        self.settle = float(parsed.capacity_settle) or self.scenario.send_interval
        self.drain = float(parsed.capacity_drain)
        self.p99_limit = float(parsed.capacity_p99_ms)
        self.target, self.rate = self.plan[0], spawn_rate(self.plan[0])
        self.verdicts: list[StepVerdict] = []
        self.result: Capacity | None = None
        self.done = False
        self.greenlet = gevent.spawn(self._run)

    def tick(self) -> tuple[int, float] | None:
        return None if self.done else (self.target, self.rate)

    def _run(self) -> None:
        try:
            before = 0
            for users in self.plan:
                self.target, self.rate = users, spawn_rate(users - before)
                verdict = judge(self._step(users), self.p99_limit)
                self.verdicts.append(verdict)
                _print_step(verdict)
                self.result = capacity(self.verdicts)
                self._write()
                if not verdict.counted:
                    break
                before = users
            if self.result is not None:
                print(f"chatlab capacity: {self.result.sentence()}", flush=True)
        finally:
            self.done = True

    def _step(self, users: int) -> StepMeasure:
        generator, stats = self.generator, self.environment.runner.stats
        failures = stats.total.num_failures
        ready = self._wait_ready(users)
        generator.stop_sending.clear()  # paused after the step before: everyone sends again
        gevent.sleep(self.settle)
        server_start, cpu_start, start = self._server_cpu(), cpu_seconds(), time.time()
        gevent.sleep(self.hold)
        server_end, cpu_end, end = self._server_cpu(), cpu_seconds(), time.time()
        lost = self._pause_and_drain()
        samples = [
            sample
            for ledger in list(generator.ledgers.values())
            for sample in ledger.report(start, end).latencies_ms
        ]
        server = busy = None
        if server_start is not None and server_end is not None:
            server = server_end[0] - server_start[0]
            if server_start[1] is not None and server_end[1] is not None:
                busy = server_end[1] - server_start[1]
        return StepMeasure(
            users=users,
            ready=ready,
            seconds=end - start,
            delivered=len(samples),
            latencies_ms=samples,
            lost=lost,
            failures=stats.total.num_failures - failures,
            server_cpu_seconds=server,
            generator_cpu_seconds=cpu_end - cpu_start,
            core_busy_seconds=busy,
        )

    def _wait_ready(self, users: int) -> int:
        """Wait (bounded) until the step's users have set up, or failed to, and every room is
        open; how many set up."""
        generator = self.generator
        deadline = time.monotonic() + 30 + users / self.rate
        while time.monotonic() < deadline:
            settled = len(generator.users) + generator.failed >= users
            if settled and all(book.all_open() for book in generator.books.values()):
                break
            gevent.sleep(_READY_POLL)
        return len(generator.users)

    def _server_cpu(self) -> tuple[float, float | None] | None:
        """The server's CPU seconds, and its cores' busy seconds per core (every process's;
        None if they cannot be read); None if its metrics cannot be read."""
        metrics = fetch_metrics(self.scenario.lab_server or self.environment.host)
        if metrics is None:
            return None
        process = metrics["process"]
        try:
            busy, cores = cores_busy_seconds(int(process["pid"]))
        except (OSError, KeyError, ValueError):
            return float(process["cpu_seconds"]), None
        return float(process["cpu_seconds"]), busy / cores

    def _pause_and_drain(self) -> int:
        """Stop sending, wait (bounded) for every owed delivery; what is still owed."""
        generator = self.generator
        generator.stop_sending.set()
        generator.idle_senders.wait(self.drain)
        deadline = time.monotonic() + self.drain
        while _owed(generator.ledgers.values()) and (left := deadline - time.monotonic()) > 0:
            generator.settled.clear()
            if _owed(generator.ledgers.values()):
                generator.settled.wait(min(left, 0.5))
        return _owed(generator.ledgers.values())

    def _write(self) -> None:
        folder = self.scenario.lab_output
        if not folder or self.result is None:
            return
        report = {"plan": self.plan, "hold_s": self.hold, "settle_s": self.settle,
                  "drain_s": self.drain, "p99_limit_ms": self.p99_limit,
                  "result": self.result.as_dict()}  # fmt: skip
        (Path(folder) / CAPACITY_FILE).write_text(json.dumps(report, indent=2) + "\n")


def _owed(ledgers: Iterable[Ledger]) -> int:
    return sum(ledger.pending for ledger in ledgers)


def _print_step(verdict: StepVerdict) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f} ms"

    server, busy = verdict.server_cpu_percent, verdict.core_busy_percent
    line = (f"chatlab capacity: {verdict.users:,} users: {verdict.deliveries_per_s:,.0f} "
            f"deliveries/s, p50 {ms(verdict.p50_ms)}, p99 {ms(verdict.p99_ms)}, server "
            f"{'-' if server is None else f'{server:.0f}%'} of its core "
            f"({'-' if busy is None else f'{busy:.0f}%'} busy in all), generator "
            f"{verdict.generator_cpu_percent:.0f}%, lost {verdict.lost}")  # fmt: skip
    outcome = "counts" if verdict.counted else "does not count: " + "; ".join(verdict.reasons)
    print(f"{line} — {outcome}", flush=True)
