"""The processes of one run: the server under test (a `lab.server_process`), the Locust load
generator, and the emulated link when the run has a round trip (`link.process`, beside the
generator on its cores), each pinned where the machine has more than one core.
"""

import os
import random
import resource
import socket
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


class LocustRun:
    """Locust headless in a subprocess, started at once and waited for later: it loads (a
    second or two) while the sweep starts the server, and holds its users back until the
    sweep's start file exists (the scenario's --lab-start-file)."""

    def __init__(self, args: list[str], cpus: frozenset[int] | None, folder: Path) -> None:
        # Locust and any workers it forks are the only children reaped between here and
        # `wait`, so the change in our children's rusage is exactly the generator's CPU.
        self.cpu_before = cpu_seconds(resource.RUSAGE_CHILDREN)
        self.started = time.monotonic()
        with (
            (folder / "locust.stdout").open("w") as out,
            (folder / "locust.stderr").open("w") as err,
        ):
            self.process = subprocess.Popen(
                [sys.executable, "-m", "locust", *args],
                stdout=out,
                stderr=err,
                cwd=folder,
                preexec_fn=_pin_to(cpus),  # noqa: PLW1509 - only sets the CPU affinity
            )

    def wait(self, timeout: float) -> LocustOutcome:
        """Until Locust ends (or `timeout` seconds from its start, then kill it)."""
        left = max(1.0, timeout - (time.monotonic() - self.started))
        try:
            exit_code: int | None = self.process.wait(timeout=left)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            exit_code = None
        seconds = time.monotonic() - self.started
        cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - self.cpu_before
        return LocustOutcome(exit_code, 100 * cpu / seconds if seconds > 0 else 0.0, seconds)

    def stop(self) -> None:
        """Kill it if it still runs (a run that failed before its users could start)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` now, below the kernel's range for outgoing connections' ports,
    so that no client connection can take it before the server it is meant for binds it."""
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12_000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port below {low} on {host}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
