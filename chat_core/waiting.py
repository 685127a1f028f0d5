"""How the core blocks, passed in: gevent's primitives in the server, threading's in tests."""

import threading
from typing import Protocol


class Event(Protocol):
    def set(self) -> None: ...
    def clear(self) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class Lock(Protocol):
    def __enter__(self) -> object: ...
    def __exit__(self, *exc: object) -> None: ...


class Waiting(Protocol):
    def event(self) -> Event: ...
    def lock(self) -> Lock: ...


class ThreadingWaiting:
    def event(self) -> Event:
        return threading.Event()

    def lock(self) -> Lock:
        return threading.RLock()
