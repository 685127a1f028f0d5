"""`chatlab link` in a child process on a free port of 127.0.0.1, stopped by its pid.

The child's first line on stdout names the address it listens on; its counts are in the
`--stats` file (rewritten every second, on SIGUSR1, and once more when it stops).
`read_snapshot` asks a running link for its counts now, from any process that knows its pid
and stats file (the sweep's coordinator reads them at both ends of a measurement window).
"""

import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

from lab.announced_child import AnnouncedChild

_ANNOUNCED = re.compile(r"chatlab link: (\S+):(\d+) ")
SNAPSHOT_TIMEOUT_S = 5.0


class LinkProcess(AnnouncedChild):
    def __init__(
        self,
        to: tuple[str, int],
        rtt_ms: float,
        *options: str,
        stats: Path | None = None,
        stderr: Path | None = None,
        cpus: frozenset[int] | None = None,
        command: tuple[str, ...] = (sys.executable, "-P", "-m", "chatlab", "link"),
        startup_timeout: float = 30.0,
        port: int = 0,
    ) -> None:
        """Start the link on `port` of 127.0.0.1 (0: any free one), pinned to `cpus` if given;
        returns once it has announced its address (RuntimeError if not). `options` are more
        of the command's arguments (e.g. "--jitter", "5")."""
        self.stats_path = stats
        argv = [*command, "--listen", f"127.0.0.1:{port}", "--to", f"{to[0]}:{to[1]}"]
        argv += ["--rtt", f"{rtt_ms:g}", *options]
        if stats is not None:
            argv += ["--stats", str(stats)]
        super().__init__(
            argv, "the link", stderr=stderr, cpus=cpus, startup_timeout=startup_timeout
        )
        found = _ANNOUNCED.match(self.announcement)
        if found is None:
            self.stop()
            raise RuntimeError(
                f"the link did not announce its address: {self.announcement!r}\n"
                f"{self.stderr()[-2000:]}"
            )
        self.address = (found[1].strip("[]"), int(found[2]))

    @property
    def port(self) -> int:
        return self.address[1]

    def stats(self) -> dict[str, Any]:
        """The counts as last written (the final ones once `stop()` has returned)."""
        if self.stats_path is None:
            raise RuntimeError("started without stats=PATH")
        return json.loads(self.stats_path.read_text())

    def snapshot(self, timeout: float = SNAPSHOT_TIMEOUT_S) -> dict[str, Any]:
        """The counts now (see `read_snapshot`)."""
        if self.stats_path is None:
            raise RuntimeError("started without stats=PATH")
        return read_snapshot(self.pid, self.stats_path, timeout)


def read_snapshot(
    pid: int, stats_path: Path, timeout: float = SNAPSHOT_TIMEOUT_S
) -> dict[str, Any]:
    """Ask the link `pid` to write its counts (SIGUSR1) and return them once written; the
    file's `snapshot` count says it is fresh. RuntimeError if none comes within `timeout`."""
    stats_path = Path(stats_path)
    answered = _snapshot_count(stats_path)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / 0.001) + 1):  # bounded: at most one look a millisecond
        stats = _read(stats_path)
        if stats is not None and stats.get("snapshot", 0) > answered:
            return stats
        if time.monotonic() > deadline:
            break
        time.sleep(0.001)
    raise RuntimeError(f"the link (pid {pid}) wrote no snapshot to {stats_path} in {timeout:g} s")


def _snapshot_count(path: Path) -> int:
    stats = _read(path)
    return 0 if stats is None else int(stats.get("snapshot", 0))


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # not written yet
        return None
