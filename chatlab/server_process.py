"""A chatlab server (or another server module) in a child process on a free port of
127.0.0.1: what the tests, the sweep and the notebook each start.

The child prints its address on its first line ("... serving on http://127.0.0.1:PORT/");
settings reach it as CHATLAB_<NAME> environment variables holding JSON values. It imports
what this interpreter has installed, whatever folder it runs in: `python -P` keeps the
working folder off its import path, so a folder named like one of ours cannot stand in.
"""

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CHATLAB_SERVE = ("chatlab", "serve")


class ServerProcess:
    def __init__(
        self,
        config: dict[str, Any] | None = None,
        stderr: Path | None = None,
        cpus: frozenset[int] | None = None,
        module: tuple[str, ...] = CHATLAB_SERVE,
        startup_timeout: float = 30.0,
        command: Sequence[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """Start the server; returns once it has announced its address (RuntimeError if not).

        It runs `module` with this interpreter, or `command` (e.g. an installed `chatlab
        serve`), in `cwd` (default: this process's working folder)."""
        self.config = dict(config or {})
        self.stderr_path = stderr
        env = dict(os.environ)
        env.update({f"CHATLAB_{key}": json.dumps(value) for key, value in self.config.items()})
        pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
        program = [sys.executable, "-P", "-m", *module] if command is None else list(command)
        with open(stderr or os.devnull, "w") as errors:
            self.process = subprocess.Popen(
                [*program, "--host", "127.0.0.1", "--port", "0"],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
                cwd=cwd,
                preexec_fn=pin,  # noqa: PLW1509 - only sets the CPU affinity
            )
        self.pinned = cpus is not None and os.sched_getaffinity(self.process.pid) == set(cpus)
        self.url = self._announced_url(startup_timeout)

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def _announced_url(self, timeout: float) -> str:
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
        words = line.decode(errors="replace").split()
        urls = [word.rstrip("/") for word in words if word.startswith("http://")]
        if not urls:
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r}\n{self.stderr()[-2000:]}")
        return urls[0]

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(10_000):
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or not self.alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.url}/healthz never answered")

    def metrics(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/api/metrics", timeout=10) as answer:
            return json.loads(answer.read())

    def stderr(self) -> str:
        if self.stderr_path is None:
            return ""
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

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

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
