"""A chatlab server (or another server module) in a child process on a free port of
127.0.0.1: what the tests, the sweep and the notebook each start.

The child prints its address on its first line ("... serving on http://127.0.0.1:PORT/");
settings reach it as CHATLAB_<NAME> environment variables holding JSON values. It imports
what this interpreter has installed, whatever folder it runs in: `python -P` keeps the
working folder off its import path, so a folder named like one of ours cannot stand in.
"""

import json
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .announced_child import AnnouncedChild
from .server_metrics import read_metrics
from .servers import CHATLAB


class ServerProcess(AnnouncedChild):
    def __init__(
        self,
        config: dict[str, Any] | None = None,
        stderr: Path | None = None,
        cpus: frozenset[int] | None = None,
        module: tuple[str, ...] = CHATLAB.module,
        startup_timeout: float = 30.0,
        command: Sequence[str] | None = None,
        cwd: Path | None = None,
        port: int = 0,
    ) -> None:
        """Start the server; returns once it has announced its address (RuntimeError if not).

        It runs `module` with this interpreter, or `command` (e.g. an installed `chatlab
        serve`), in `cwd` (default: this process's working folder), on `port` (0: any free
        one)."""
        self.config = dict(config or {})
        env = dict(os.environ)
        env.update({f"CHATLAB_{key}": json.dumps(value) for key, value in self.config.items()})
        program = [sys.executable, "-P", "-m", *module] if command is None else list(command)
        argv = [*program, "--host", "127.0.0.1", "--port", str(port)]
        super().__init__(argv, "the server", stderr, env, cwd, cpus, startup_timeout)
        urls = [w.rstrip("/") for w in self.announcement.split() if w.startswith("http://")]
        if not urls:
            self.stop()
            raise RuntimeError(
                f"the server did not announce its address: {self.announcement!r}\n"
                f"{self.stderr()[-2000:]}"
            )
        self.url = urls[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

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
        return read_metrics(self.url)
