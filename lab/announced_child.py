"""A child process that announces where it listens on its first line of output, and is
stopped by its pid: how the lab starts servers and emulated links alike.

The first line is read with a deadline, so a child that fails before announcing itself
is reported with what it wrote to its stderr file, never waited for forever.
"""

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class AnnouncedChild:
    def __init__(
        self,
        argv: Sequence[str],
        what: str,
        stderr: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        cpus: frozenset[int] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        """Start `argv` and read its first line (`announcement`); RuntimeError naming `what`
        if none comes within `startup_timeout` seconds."""
        self.stderr_path = stderr
        pin: Callable[[], None] | None = None
        if cpus is not None:
            pin = lambda: os.sched_setaffinity(0, cpus)  # noqa: E731
        with open(stderr or os.devnull, "w") as errors:
            self.process = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                cwd=cwd,
                preexec_fn=pin,  # noqa: PLW1509 - only sets the CPU affinity
            )
        self.pinned = cpus is not None and os.sched_getaffinity(self.process.pid) == set(cpus)
        self.announcement = self._first_line(startup_timeout)
        if not self.announcement:
            self.stop()
            raise RuntimeError(f"{what} did not start\n{self.stderr()[-2000:]}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def _first_line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        deadline, line = time.monotonic() + timeout, b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in line and (left := deadline - time.monotonic()) > 0:
                if not selector.select(timeout=left):
                    break
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        return line.split(b"\n", 1)[0].decode(errors="replace").strip()

    def stderr(self) -> str:
        if self.stderr_path is None or not self.stderr_path.exists():
            return ""
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask_to_stop(self) -> None:
        """SIGTERM, without waiting (`stop()` waits)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not stopped within 10 s; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> "AnnouncedChild":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_together(children: Sequence[AnnouncedChild]) -> None:
    """Stop several children, each by its pid, waiting for them at once rather than in turn."""
    for child in children:
        child.ask_to_stop()
    for child in children:
        child.stop()
