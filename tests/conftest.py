"""Fixtures: live chatlab servers in their own processes, and Debian's Chromium for Playwright."""

import itertools
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test in this run uses (servers outlive single tests)."""
    return f"{prefix}{os.getpid() % 1000}x{next(_names)}"


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    stderr_path: Path
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def start_server(tmp_dir: Path, config: dict[str, Any] | None = None) -> LiveServer:
    """`chatlab serve --port 0` in a subprocess, with CHATLAB_* overrides; waits until ready."""
    config = config or {}
    env = dict(os.environ)
    env.update({f"CHATLAB_{key}": json.dumps(value) for key, value in config.items()})
    stderr_path = tmp_dir / f"server-{next(_names)}.stderr"
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlab", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=stderr_path.open("w"),
        env=env,
        cwd=ROOT,
    )
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    line = b""
    while time.monotonic() < deadline and b"\n" not in line:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        line += chunk
    selector.close()
    words = line.decode().split()
    urls = [w.rstrip("/") for w in words if w.startswith("http://")]
    if not urls:
        process.kill()
        raise RuntimeError(f"chatlab serve did not start: {line!r}\n{stderr_path.read_text()}")
    return LiveServer(url=urls[0], process=process, stderr_path=stderr_path, config=config)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server with the default configuration, shared by the whole run."""
    live = start_server(tmp_path_factory.mktemp("server"))
    yield live
    live.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Start servers with their own configuration; each is stopped after the test."""
    started: list[LiveServer] = []

    def start(**config: Any) -> LiveServer:
        live = start_server(tmp_path, config)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
