"""What a sweep records about where it ran, so that its numbers can be re-made and judged."""

import importlib.metadata
import os
import platform
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import psutil

from .plan import RunSpec
from .processes import ROOT, SERVER_CONFIG, Pinning

PACKAGES = ("chatlab", "locust", "gevent", "gevent-websocket", "flask", "werkzeug",
            "websocket-client", "geventhttpclient", "psutil", "wsaccel")  # fmt: skip


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=10, check=True)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def capture(preset: str, plan: list[RunSpec], pinning: Pinning) -> dict[str, Any]:
    status = _git("status", "--porcelain")
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ended_at": None,
        "command": sys.argv,
        "preset": preset,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "cores": os.cpu_count(),
        "usable_cores": sorted(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_bytes": psutil.virtual_memory().total,
        "load_average_at_start": os.getloadavg(),
        "commit": _git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(status) if status is not None else None,
        "pinning": {
            "server_cpus": pinning.describe(pinning.server),
            "generator_cpus": pinning.describe(pinning.generator),
        },
        "server_config": {f"CHATLAB_{k}": v for k, v in SERVER_CONFIG.items()},
        "plan": [asdict(spec) for spec in plan],
    }
