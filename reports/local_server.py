"""A chatlab server of the notebook's own: `chatlab serve --port 0` in a child process."""

from collections.abc import Iterator
from contextlib import contextmanager

from lab.server_process import ServerProcess


@contextmanager
def local_server(startup_timeout: float = 30.0) -> Iterator[str]:
    """Start a server on a free port of 127.0.0.1, yield its base URL, stop it afterwards."""
    with ServerProcess(startup_timeout=startup_timeout) as server:
        yield server.url
