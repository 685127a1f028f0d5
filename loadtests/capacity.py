"""Capacity: where a transport hits the wall. The step plan, and the judgment of each step.

A capacity run steps the user count up (loadtests/capacity_shape.py drives Locust) and
measures each step on its own: its delivery latency, what it lost, the server's CPU and the
load generator's over the step. A step counts when its p99 is within `P99_LIMIT_MS`, nothing
was lost, no request failed, every user set up, and the server's core was not full; the run
stops at the first step that does not count. Its result is the largest user count that still
counted — or "at least N" when the generator, not the server, ran out first (over
`GENERATOR_CPU_LIMIT` of its core in the failing step: that step measured the generator),
when other processes took `OTHERS_SHARE_LIMIT` of the server's core or more in the failing
step (a shared machine), or when the plan's largest step still counted. Pure logic: no
I/O, no Locust, no gevent.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .derive import GENERATOR_CPU_LIMIT, percentile

CAPACITY_FILE = "capacity.json"  # a capacity run's result, in its --lab-output folder
P99_LIMIT_MS = 250.0
SERVER_CORE_FULL = 95.0  # percent of one core over the step: the server has no more to give
# other processes' share of the server's core (its busy time in all less the server's own)
# from which a step measured the machine (a shared one) as much as the server: a quarter of
# the core, when the server waited for it a quarter of the time (their latency grows first)
OTHERS_SHARE_LIMIT = 25.0
SERVER = "server"
GENERATOR = "generator"
MACHINE = "machine"
PLAN = "plan"


def p99_limit_ms(transport: str, poll_interval: float) -> float:
    """A step's p99 limit: `P99_LIMIT_MS`, on top of the poll interval for short polling, whose
    every message waits up to an interval by design (its p99 is about the interval itself)."""
    return P99_LIMIT_MS + (poll_interval * 1000 if transport == "short_poll" else 0.0)


def step_users(start: int, factor: float, largest: int, multiple: int = 1) -> list[int]:
    """The user count of each step: `start`, then each step `factor` times the one before
    (at least one more), every count rounded up to a multiple of `multiple` (the room size,
    so that rooms stay full), up to `largest`."""
    if start < 1 or largest < start or factor <= 1 or multiple < 1:
        raise ValueError("steps need 1 <= start <= largest, factor > 1 and multiple >= 1")
    counts: list[int] = []
    users = float(start)
    while True:
        count = -(-int(round(users)) // multiple) * multiple
        if count > largest:
            break
        if not counts or count > counts[-1]:
            counts.append(count)
        users = max(users * factor, counts[-1] + 1)
    return counts


@dataclass(frozen=True)
class StepMeasure:
    """What one step measured, over its measurement window."""

    users: int  # users the step asked for
    ready: int  # users that had set up
    seconds: float
    delivered: int  # deliveries that arrived in the window
    latencies_ms: Sequence[float] = field(repr=False, default=())
    lost: int = 0  # deliveries still owed after the step's drain
    failures: int = 0  # requests that failed (Locust's count) during the step
    server_cpu_seconds: float | None = None  # None: the server's metrics could not be read
    generator_cpu_seconds: float = 0.0
    # the server's core(s) busy over the step by every process of the machine (it is shared):
    # CPU seconds, per core; None where it could not be read
    core_busy_seconds: float | None = None

    @property
    def p99_ms(self) -> float | None:
        return percentile(sorted(self.latencies_ms), 99)

    @property
    def p50_ms(self) -> float | None:
        return percentile(sorted(self.latencies_ms), 50)

    @property
    def server_cpu_percent(self) -> float | None:
        if self.server_cpu_seconds is None or self.seconds <= 0:
            return None
        return 100 * self.server_cpu_seconds / self.seconds

    @property
    def generator_cpu_percent(self) -> float:
        return 100 * self.generator_cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def core_busy_percent(self) -> float | None:
        if self.core_busy_seconds is None or self.seconds <= 0:
            return None
        return 100 * self.core_busy_seconds / self.seconds


@dataclass(frozen=True)
class StepVerdict:
    users: int
    counted: bool
    reasons: tuple[str, ...]  # why it did not count; empty if it did
    generator_limited: bool  # the generator was over its limit: the step measured it
    p50_ms: float | None
    p99_ms: float | None
    server_cpu_percent: float | None
    generator_cpu_percent: float
    deliveries_per_s: float
    lost: int
    # the server's core busy in all, every process's share (the server's own is above): where
    # it is well over the server's, others took its core and the step measured the machine
    core_busy_percent: float | None = None
    # other processes had a good part of the server's core: the step measured them too
    machine_limited: bool = False


def judge(
    step: StepMeasure, p99_limit_ms: float = P99_LIMIT_MS, core_full: float = SERVER_CORE_FULL
) -> StepVerdict:
    p99, server_cpu = step.p99_ms, step.server_cpu_percent
    reasons = []
    if step.ready < step.users:
        reasons.append(f"only {step.ready} of {step.users} users set up")
    if step.delivered == 0 or p99 is None:
        reasons.append("nothing was delivered in the step")
    elif p99 > p99_limit_ms:
        reasons.append(f"p99 {p99:,.0f} ms, over {p99_limit_ms:g} ms")
    if step.lost:
        reasons.append(f"{step.lost} deliveries lost")
    if step.failures:
        reasons.append(f"{step.failures} requests failed")
    if server_cpu is None:
        reasons.append("the server's CPU could not be read")
    elif server_cpu >= core_full:
        reasons.append(f"the server's core full ({server_cpu:.0f}%)")
    generator_limited = step.generator_cpu_percent >= GENERATOR_CPU_LIMIT
    if generator_limited:
        reasons.append(f"the load generator at {step.generator_cpu_percent:.0f}% of its core "
                       f"(limit {GENERATOR_CPU_LIMIT:.0f}%)")  # fmt: skip
    busy = step.core_busy_percent
    machine_limited = busy is not None and busy - (server_cpu or 0.0) >= OTHERS_SHARE_LIMIT
    if machine_limited and reasons:  # why the step failed: said only when it did
        reasons.append(f"other processes on the server's core ({busy:.0f}% busy in all, "
                       f"{server_cpu or 0:.0f}% the server's)")  # fmt: skip
    return StepVerdict(
        users=step.users,
        counted=not reasons,
        reasons=tuple(reasons),
        generator_limited=generator_limited,
        p50_ms=step.p50_ms,
        p99_ms=p99,
        server_cpu_percent=server_cpu,
        generator_cpu_percent=step.generator_cpu_percent,
        deliveries_per_s=step.delivered / step.seconds if step.seconds > 0 else 0.0,
        lost=step.lost,
        core_busy_percent=busy,
        machine_limited=machine_limited,
    )


@dataclass(frozen=True)
class Capacity:
    users: int  # the largest user count that counted (0: none did)
    at_least: bool  # the server may hold more: the generator, the machine or the plan ran out
    stopped_by: str  # SERVER, GENERATOR, MACHINE or PLAN
    reason: str  # why the last step did not count, or that the plan ended
    steps: tuple[StepVerdict, ...]

    def sentence(self) -> str:
        """The result in words."""
        held = f"at least {self.users:,}" if self.at_least else f"{self.users:,}"
        if self.stopped_by == PLAN:
            return f"{held} users: every step counted, up to the plan's largest"
        held = f"{held} users" if self.users else "no step counted"
        failed = self.steps[-1].users
        who = {GENERATOR: "the load generator ran out first",
               MACHINE: "other processes took the server's core"}.get(self.stopped_by,
                                                                      "the server")  # fmt: skip
        return f"{held}; at {failed:,}: {self.reason} ({who})"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sentence": self.sentence()}


def capacity(verdicts: Sequence[StepVerdict]) -> Capacity:
    """The result of a run whose steps were judged in order (it ends at the first step that
    did not count, or with the plan)."""
    counted = 0
    for index, verdict in enumerate(verdicts):
        if not verdict.counted:
            stopped_by = (GENERATOR if verdict.generator_limited
                          else MACHINE if verdict.machine_limited else SERVER)  # fmt: skip
            return Capacity(counted, stopped_by != SERVER, stopped_by,
                            "; ".join(verdict.reasons), tuple(verdicts[: index + 1]))  # fmt: skip
        counted = verdict.users
    return Capacity(counted, True, PLAN, "every step counted", tuple(verdicts))
