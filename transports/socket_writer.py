"""The one way bytes reach a WebSocket's socket, with no greenlet of its own while idle.

A write goes out at once, by one send that never waits, from whichever greenlet has the bytes
(the connection's reader for its replies, the server's delivery greenlet for messages): such a
send cannot let another greenlet run, so nothing interleaves with it. What the kernel does not
take at once waits here, in order, and a drainer greenlet, spawned for it, writes it with sends
that wait; while it lives every write joins the queue behind it, so only one greenlet is ever
inside a write to the socket. Once the queue is empty the drainer asks its connection for more
(`refill`) and ends when there is none: a connection that keeps up never has a drainer.

Replies (pongs, acks, errors) waiting here are counted, so that a client that sends and never
reads can be told apart from one that merely reads slowly (`unsent_replies`).
"""

import socket
import time
from collections import deque
from collections.abc import Callable

import gevent
from gevent import Greenlet

from .live import LiveConnection


class SocketWriter:
    __slots__ = ("sock", "live", "refill", "queue", "unsent_replies", "drainer")

    def __init__(self, sock: socket.socket, live: LiveConnection,
                 refill: Callable[[], bytes]) -> None:  # fmt: skip
        """`refill`: the next bytes to write once the queue is empty (b"": nothing waits)."""
        self.sock = sock
        self.live = live
        self.refill = refill
        self.queue: deque[tuple[memoryview | bytes, bool]] = deque()  # (data, is a reply)
        self.unsent_replies = 0
        self.drainer: Greenlet | None = None

    @property
    def busy(self) -> bool:
        """A drainer owns the socket: what is written now waits behind it."""
        return self.drainer is not None

    def write(self, data: bytes, reply: bool = False) -> bool:
        """Write `data` now if the kernel takes it, else queue it for the drainer; whether
        all of it went out now. Never waits. OSError: the connection is gone."""
        if self.drainer is None:
            try:
                sent = self.sock.send(data, 0, 0.0)  # gevent's send: a timeout of 0 never waits
            except BlockingIOError:
                sent = 0
            if sent == len(data):
                return True
            data = memoryview(data)[sent:]
            self.drainer = gevent.spawn(self._drain)
        self.queue.append((data, reply))
        if reply:
            self.unsent_replies += 1
            self.live.unsent_replies = self.unsent_replies
        return False

    def drop_unsent_replies(self) -> None:
        """Forget the replies not begun yet (a frame begun must be finished, or the stream
        would be corrupt): the connection is closing, and they would only delay its close."""
        queue = self.queue  # the drainer holds it: changed in place
        kept = [item for index, item in enumerate(queue) if index == 0 or not item[1]]
        queue.clear()
        queue.extend(kept)
        self.unsent_replies = sum(1 for _, reply in kept if reply)
        self.live.unsent_replies = self.unsent_replies

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` for the drainer to finish; whether nothing is left to write."""
        drainer = self.drainer
        if drainer is not None:
            drainer.join(timeout)
        return self.drainer is None

    def stop(self) -> None:
        drainer = self.drainer
        if drainer is not None and drainer is not gevent.getcurrent():
            drainer.kill(block=False)
        self.drainer = None
        self.queue.clear()

    def _drain(self) -> None:
        queue, live = self.queue, self.live
        try:
            while True:
                while queue:
                    data, reply = queue[0]
                    live.writing_since = time.monotonic()
                    try:
                        self.sock.sendall(data)
                    finally:
                        live.writing_since = 0.0
                    queue.popleft()
                    if reply:
                        self.unsent_replies -= 1
                        live.unsent_replies = self.unsent_replies
                more = self.refill()
                if not more:
                    return
                queue.append((more, False))
        except OSError:
            live.abort()  # the peer is gone; the reader wakes and ends the connection
        finally:
            if self.drainer is gevent.getcurrent():
                self.drainer = None
