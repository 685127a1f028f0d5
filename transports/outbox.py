"""What SSE and WebSocket share: one connection reading its session's stream from a cursor.

The writer of a connection loops: take the next batch, write it in one go, wait for more.
Fan-out never touches a socket; it only appends to streams and wakes their outboxes.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from chat_core import Batch, Session
from chat_core.waiting import Event

from .live import LiveConnection
from .metrics import ConnectionMeter
from .state import ServerState


class Outbox:
    def __init__(
        self,
        server: ServerState,
        session: Session,
        transport: str,
        cursor: int,
        meter: ConnectionMeter | None,
        sock: object | None,
        send_queue: int,
        batch_size: int,
        wakeup: Event | None = None,
    ) -> None:
        """`wakeup`: what the stream sets when it grows (default: an event to wait on)."""
        self.chat = server.chat
        self.session = session
        self.cursor = cursor
        self.send_queue = send_queue
        self.batch_size = batch_size
        self.counters = server.metrics.transports[transport]
        self.wakeup: Event = server.chat_waiting.event() if wakeup is None else wakeup
        self.live = LiveConnection(session=session, transport=transport, sock=sock, cursor=cursor)
        self._server = server
        self._meter = meter

    def open(self) -> None:
        self.chat.listen(self.session, self.wakeup)
        self.chat.stream_opened(self.session)
        self._server.live.add(self.live)
        if self._meter is not None:
            self._server.metrics.long_lived.add(self._meter)

    def close(self) -> None:
        self.chat.unlisten(self.session, self.wakeup)
        self.chat.stream_closed(self.session)
        self._server.live.discard(self.live)
        if self._meter is not None:
            self._server.metrics.long_lived.discard(self._meter)

    def next_batch(self) -> Batch:
        """Messages after the cursor; the wakeup is re-armed first so none is missed."""
        self.wakeup.clear()
        return self.chat.read(self.session, self.cursor, self.batch_size)

    def handed_over(self, batch: Batch) -> None:
        """The batch's bytes are written: move the cursor past them."""
        self.counters.delivered += len(batch.messages)
        self.cursor = self.live.cursor = batch.cursor

    def overflowing(self, batch: Batch, waited: bool = True) -> bool:
        """More messages wait than the send queue holds: the consumer cannot keep up.

        A write that did not wait let no other greenlet run, so nothing was appended during
        it: what waits then is exactly what the batch left behind."""
        if not waited:
            return batch.remaining > self.send_queue
        return self.chat.backlog(self.session, self.cursor) > self.send_queue

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Mark a socket write in progress, so that a writer stuck in it can be found."""
        self.live.writing_since = time.monotonic()
        try:
            yield
        finally:
            self.live.writing_since = 0.0
