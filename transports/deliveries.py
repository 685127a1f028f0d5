"""Fan-out to WebSockets without waking a greenlet per recipient.

A send appends the message to each recipient's stream and sets each stream's listeners. A
WebSocket's listener is a `Due`: setting it only puts its connection on the server's list of
connections with news (once, until the connection reads its stream again) and wakes the one
delivery greenlet of the server, which is woken once however many recipients there are. When
the sender's greenlet yields, that greenlet hands each listed connection its new messages
(`deliver`), which writes them with a send that never waits (transports.socket_writer).

The teaching document's loop writes to every recipient from the sender's greenlet, and can
block it on one that does not read; a greenlet per connection woken to write costs a switch
there and back for every recipient. Measured in the room of 100: see transports/websocket.py.
"""

import logging
from typing import Protocol

import gevent
import gevent.event
from gevent import Greenlet

log = logging.getLogger(__name__)


class Deliverable(Protocol):
    def deliver(self) -> None: ...


class Deliveries:
    """The server's list of connections with news, and the greenlet that serves it."""

    def __init__(self) -> None:
        self.due: list[Deliverable] = []
        self.ready = gevent.event.Event()
        self.greenlet: Greenlet | None = None

    def mark(self, connection: Deliverable) -> None:
        if not self.due:
            if self.greenlet is None:
                self.greenlet = gevent.spawn(self._run)
            self.ready.set()
        self.due.append(connection)

    def _run(self) -> None:
        while True:
            self.ready.wait()
            self.ready.clear()
            due, self.due = self.due, []
            for connection in due:
                try:
                    connection.deliver()
                except Exception:  # one connection's fault is its own
                    log.exception("delivering to a WebSocket failed")


class Due:
    """A connection's listener on its stream (chat_core.waiting.Event's set and clear)."""

    __slots__ = ("connection", "deliveries", "is_due")

    def __init__(self, deliveries: Deliveries) -> None:
        self.connection: Deliverable | None = None  # set by the connection it belongs to
        self.deliveries = deliveries
        self.is_due = False

    def set(self) -> None:
        if not self.is_due and self.connection is not None:
            self.is_due = True
            self.deliveries.mark(self.connection)

    def clear(self) -> None:
        self.is_due = False

    def wait(self, timeout: float | None = None) -> bool:
        raise TypeError("a WebSocket's stream is delivered to, never waited on")
