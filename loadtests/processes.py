"""The processes of one run: the server under test and the Locust load generator, each
pinned to its own cores where the machine has more than one.
"""

import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOADTESTS = Path(__file__).resolve().parent
ROOT = LOADTESTS.parent
# The server's rate limit (20 a second, bursts of 40) is a guard for the chat, not a subject
# of the lab: the burst workload would hit it. Recorded with every sweep's environment.
SERVER_CONFIG = {"RATE_PER_SECOND": 1000, "RATE_BURST": 1000}


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


class ServerProcess:
    """`chatlab serve` or the bare broadcast server on a free port, until stopped."""

    def __init__(self, bare: bool, cpus: frozenset[int] | None, log: Path) -> None:
        module = ["-m", "loadtests.bare_broadcast"] if bare else ["-m", "chatlab", "serve"]
        env = dict(os.environ)
        env.update({f"CHATLAB_{key}": json.dumps(value) for key, value in SERVER_CONFIG.items()})
        self.process = subprocess.Popen(
            [sys.executable, *module, "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            env=env,
            cwd=ROOT,
            preexec_fn=_pin_to(cpus),  # noqa: PLW1509 - only sets the CPU affinity
        )
        self.url = self._read_url(log)
        self.pinned = cpus is not None and os.sched_getaffinity(self.process.pid) == set(cpus)

    def _read_url(self, log: Path, timeout: float = 30.0) -> str:
        """The URL from the server's first line ("... serving on http://host:port/")."""
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline, line = time.monotonic() + timeout, b""
        while b"\n" not in line and (left := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=left):
                break
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
        selector.close()
        urls = [word for word in line.decode(errors="replace").split() if word.startswith("http")]
        if not urls:
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r} {log.read_text()[-2000:]}")
        return urls[0].rstrip("/")

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{self.url}/healthz never answered") from None
            time.sleep(0.05)

    def metrics(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/api/metrics", timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


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
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return LocustOutcome(exit_code, 100 * cpu / seconds if seconds > 0 else 0.0, seconds)
