"""The emulated link's counts and CPU at one moment: what the coordinator reads at both ends
of the measurement window, beside the server's metrics, when the users reach the server
through `chatlab link` (the sweep's `--rtt`).

The link writes its counts on SIGUSR1 (`link.process.read_snapshot`); its CPU time is read
from the kernel's scheduler count for its pid. Both are read within a few milliseconds of
the server's metrics, so the link's bytes and the server's cover the same window.
"""

import logging
from pathlib import Path
from typing import Any

from lab.process_usage import process_cpu_seconds
from link.process import read_snapshot

log = logging.getLogger("chatlab")


def read_link(pid_file: str, stats_path: str) -> dict[str, Any] | None:
    """{"bytes": the link's totals, "connections": accepted and open, "cpu_seconds": its CPU
    time so far} of the link whose pid `pid_file` holds, or None (with a warning) if the link
    cannot be read."""
    if not pid_file or not stats_path:
        return None
    try:
        pid = int(Path(pid_file).read_text())
        cpu = process_cpu_seconds(pid)
        stats = read_snapshot(pid, Path(stats_path))
    except (OSError, RuntimeError, ValueError) as error:
        log.warning("chatlab: could not read the link's counts: %s", error)
        return None
    connections = stats.get("connections", {})
    return {
        "bytes": stats["bytes"],
        "connections": {"accepted": connections.get("accepted"), "open": connections.get("open")},
        "cpu_seconds": cpu,
    }
