"""`chatlab link` in a child process on a free port of 127.0.0.1, stopped by its pid.

The child's first line on stdout names the address it listens on; its counts are in the
`--stats` file (rewritten every second and once more when it stops).
"""

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

_ANNOUNCED = re.compile(rb"chatlab link: (\S+):(\d+) ")


class LinkProcess:
    def __init__(
        self,
        to: tuple[str, int],
        rtt_ms: float,
        *options: str,
        stats: Path | None = None,
        stderr: Path | None = None,
        command: tuple[str, ...] = (sys.executable, "-m", "chatlab", "link"),
        startup_timeout: float = 30.0,
    ) -> None:
        """Start the link; returns once it has announced its address (RuntimeError if not).
        `options` are more of the command's arguments (e.g. "--jitter", "5")."""
        self.stats_path, self.stderr_path = stats, stderr
        argv = [*command, "--listen", "127.0.0.1:0", "--to", f"{to[0]}:{to[1]}"]
        argv += ["--rtt", f"{rtt_ms:g}", *options]
        if stats is not None:
            argv += ["--stats", str(stats)]
        with open(stderr or os.devnull, "w") as errors:
            self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors)
        self.announcement = ""
        self.address = self._announced_address(startup_timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return self.address[1]

    def _announced_address(self, timeout: float) -> tuple[str, int]:
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
        self.announcement = line.decode(errors="replace").strip()
        found = _ANNOUNCED.match(line)
        if found is None:
            self.stop()
            errors = self.stderr_path.read_text() if self.stderr_path else ""
            raise RuntimeError(f"the link did not start: {line!r}\n{errors[-2000:]}")
        return found[1].decode().strip("[]"), int(found[2])

    def stats(self) -> dict[str, Any]:
        """The counts as last written (the final ones once `stop()` has returned)."""
        if self.stats_path is None:
            raise RuntimeError("started without stats=PATH")
        return json.loads(self.stats_path.read_text())

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

    def __enter__(self) -> "LinkProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
