"""Streams that stay open (SSE, WebSocket): who they are, and the check for stalled writers.

A consumer that reads too slowly is closed by its own writer once its send queue is full.
A consumer that stops reading altogether leaves its writer blocked inside a socket write, where
it cannot check anything: the housekeeping loop finds such writers and shuts their sockets —
those with more messages waiting than the send queue holds, with more replies (pongs, acks,
errors) unsent than a WebSocket may leave unread, or with their close frame still unsent.
"""

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chat_core import Chat, Session

from .memory import give_back_freed_memory


@dataclass(eq=False)
class LiveConnection:
    session: Session
    transport: str
    sock: socket.socket | None
    cursor: int
    writing_since: float = 0.0  # when the current socket write began; 0 when not writing
    aborted: bool = False
    unsent_replies: int = 0  # replies (pongs, acks, errors) written to no socket yet
    reply_queue: int = 0  # how many may wait unsent (0: this connection sends no replies)
    closing: bool = False  # its close frame is on its way

    def abort(self) -> None:
        """Cut the connection; a writer blocked on it wakes with an error."""
        self.aborted = True
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class LiveConnections:
    connections: set[LiveConnection] = field(default_factory=set)

    def add(self, connection: LiveConnection) -> None:
        self.connections.add(connection)

    def discard(self, connection: LiveConnection) -> None:
        self.connections.discard(connection)

    def abort_stalled(self, chat: Chat, send_queue: int, stalled_after: float) -> int:
        """Abort writers blocked longer than `stalled_after` with a full send or reply queue,
        or with their close frame unsent."""
        now = time.monotonic()
        stalled = [
            c
            for c in self.connections
            if c.writing_since
            and now - c.writing_since > stalled_after
            and (
                c.closing
                or c.unsent_replies > c.reply_queue > 0
                or chat.backlog(c.session, c.cursor) > send_queue
            )
        ]
        for connection in stalled:
            connection.abort()
        return len(stalled)


def housekeeping(
    chat: Chat,
    live: LiveConnections,
    send_queue: int,
    interval: float,
    sleep: Callable[[float], None],
    expiry_every: int = 10,
) -> None:
    """Run forever: abort stalled writers and forget rooms empty past their grace each
    interval, expire idle sessions now and then; give what they held back to the system."""
    rounds = 0
    while True:
        sleep(interval)
        live.abort_stalled(chat, send_queue, stalled_after=interval)
        released = chat.forget_empty_rooms()
        rounds += 1
        if rounds % expiry_every == 0:
            released += chat.expire_idle()
        if released:
            give_back_freed_memory()
