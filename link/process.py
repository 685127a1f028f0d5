"""`chatlab link` in a child process on a free port of 127.0.0.1, stopped by its pid.

The child's first line on stdout names the address it listens on; its counts are in the
`--stats` file (rewritten every second and once more when it stops).
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

from lab.announced_child import AnnouncedChild

_ANNOUNCED = re.compile(r"chatlab link: (\S+):(\d+) ")


class LinkProcess(AnnouncedChild):
    def __init__(
        self,
        to: tuple[str, int],
        rtt_ms: float,
        *options: str,
        stats: Path | None = None,
        stderr: Path | None = None,
        command: tuple[str, ...] = (sys.executable, "-P", "-m", "chatlab", "link"),
        startup_timeout: float = 30.0,
    ) -> None:
        """Start the link; returns once it has announced its address (RuntimeError if not).
        `options` are more of the command's arguments (e.g. "--jitter", "5")."""
        self.stats_path = stats
        argv = [*command, "--listen", "127.0.0.1:0", "--to", f"{to[0]}:{to[1]}"]
        argv += ["--rtt", f"{rtt_ms:g}", *options]
        if stats is not None:
            argv += ["--stats", str(stats)]
        super().__init__(argv, "the link", stderr=stderr, startup_timeout=startup_timeout)
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
