"""A chatlab server of the notebook's own: `chatlab serve --port 0` in a child process."""

import os
import re
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_URL = re.compile(rb"http://[\d.]+:\d+")


@contextmanager
def local_server(startup_timeout: float = 30.0) -> Iterator[str]:
    """Start a server on a free port of 127.0.0.1, yield its base URL, stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlab", "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield _announced_url(process, startup_timeout)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _announced_url(process: subprocess.Popen, timeout: float) -> str:
    """The URL from the server's first line ("chatlab serving on http://…")."""
    assert process.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in line:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(timeout=left):
                raise RuntimeError("chatlab serve did not announce its address in time")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"chatlab serve exited with {process.wait()}")
            line += chunk
    match = _URL.search(line)
    if match is None:
        raise RuntimeError(f"chatlab serve said {line!r}, with no address in it")
    return match.group().decode()
