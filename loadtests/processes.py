"""The processes of one run: the server under test (a `lab.server_process`) and the
Locust load generator, each pinned to its own cores where the machine has more than one.
"""

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.process_usage import cpu_seconds

LOADTESTS = Path(__file__).resolve().parent
ROOT = LOADTESTS.parent
# The server's rate limit (20 a second, bursts of 40) and its bounds on what one address may
# hold (32 sessions, 16 rooms; 2,000 and 1,000 in all) are guards for a class's chat, not
# subjects of the lab: the burst workload would hit the one, and every user of a run logs in
# from 127.0.0.1, thousands at the largest levels. Recorded with every sweep's environment.
SERVER_CONFIG = {
    "RATE_PER_SECOND": 1000,
    "RATE_BURST": 1000,
    "MAX_SESSIONS": 100_000,
    "MAX_SESSIONS_PER_CLIENT": 100_000,
    "MAX_ROOMS": 100_000,
    "MAX_ROOMS_PER_CLIENT": 100_000,
}


@dataclass(frozen=True)
class Pinning:
    server: frozenset[int] | None  # None: not pinned (a single core)
    generator: frozenset[int] | None

    @classmethod
    def choose(cls) -> "Pinning":
        """The server on the first core this process may use, the generator on the rest."""
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            return cls(None, None)
        return cls(frozenset(cores[:1]), frozenset(cores[1:]))

    def describe(self, cpus: frozenset[int] | None) -> str:
        return ",".join(str(c) for c in sorted(cpus)) if cpus else "any"


def _pin_to(cpus: frozenset[int] | None) -> Any:
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


@dataclass(frozen=True)
class LocustOutcome:
    exit_code: int | None  # None: it had to be killed
    cpu_percent: float  # CPU of the generator process(es) over the whole run, % of one core
    seconds: float


def run_locust(args: list[str], cpus: frozenset[int] | None, folder: Path,
               timeout: float) -> LocustOutcome:  # fmt: skip
    """Run Locust headless in a subprocess until it ends (or `timeout`, then kill it)."""
    # Locust and any workers it forks are reaped by us alone in this span, so the change in
    # our children's rusage is exactly the generator's CPU.
    before = cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with (folder / "locust.stdout").open("w") as out, (folder / "locust.stderr").open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "locust", *args],
            stdout=out,
            stderr=err,
            cwd=folder,
            preexec_fn=_pin_to(cpus),  # noqa: PLW1509 - only sets the CPU affinity
        )
        try:
            exit_code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            exit_code = None
    seconds = time.monotonic() - started
    cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - before
    return LocustOutcome(exit_code, 100 * cpu / seconds if seconds > 0 else 0.0, seconds)
