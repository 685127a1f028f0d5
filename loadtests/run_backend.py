"""A run's backend: nothing for the memory chat; for the Redis chat, a redis-server of the
run's own (no persistence: the run measures the backplane, not the disk) on the server's
cores, and the server's settings and arguments that use it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.redis_server import RedisServer

from .plan import RunSpec


@contextmanager
def run_backend(spec: RunSpec, folder: Path,
                cpus: frozenset[int] | None) -> Iterator[tuple[dict, tuple[str, ...]]]:  # fmt: skip
    """(settings, extra `chatlab serve` arguments) for the run; Redis stopped after it."""
    workers = ("--workers", str(spec.workers)) if spec.workers > 1 else ()
    if spec.backend != "redis":
        yield {}, workers
        return
    store = RedisServer(folder / "redis")
    try:
        if cpus is not None:
            os.sched_setaffinity(store.pid, cpus)  # its CPU is the server side's
        yield {"REDIS_URL": store.url}, workers
    finally:
        store.stop()
