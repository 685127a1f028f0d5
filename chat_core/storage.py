"""Where messages live: each user's stream, each room's history, and the id counter.

`Storage` is the seam for a durable or shared backend; `MemoryStorage` keeps everything in
this process. Callers hold the chat's lock around every call, so backends need no locking.
"""

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from .message import Message
from .waiting import Event


@dataclass(frozen=True, slots=True)
class Batch:
    """What a reader gets: messages newer than its cursor, oldest first, at most one page."""

    messages: list[Message]
    cursor: int  # the id of the last message here, or the cursor asked with when empty
    gap_oldest: int | None = None  # set when messages newer than the cursor were dropped
    remaining: int = 0  # messages newer than `cursor` still waiting after this page
    ended: bool = field(default=False)  # the stream's session ended: stop reading


class Storage(Protocol):
    def allocate_id(self) -> int: ...
    def newest_id(self) -> int: ...
    def open_stream(self, owner: str) -> None: ...
    def close_stream(self, owner: str) -> None: ...
    def deliver(self, message: Message, owners: Iterable[str]) -> None: ...
    def read(self, owner: str, after: int, limit: int) -> Batch: ...
    def backlog(self, owner: str, after: int) -> int: ...
    def listen(self, owner: str, event: Event) -> None: ...
    def unlisten(self, owner: str, event: Event) -> None: ...
    def add_to_history(self, room: str, message: Message) -> None: ...
    def history(self, room: str, limit: int) -> list[Message]: ...
    def drop_history(self, room: str) -> None: ...


def _message_id(message: Message) -> int:
    return message.id


class Stream:
    """One user's messages, newest `retention` kept, plus who is waiting for more."""

    __slots__ = ("messages", "dropped_upto", "listeners")

    def __init__(self, retention: int) -> None:
        self.messages: deque[Message] = deque(maxlen=retention)
        self.dropped_upto = 0  # the newest id ever dropped for retention; 0 if none
        self.listeners: list[Event] = []

    def append(self, message: Message) -> None:
        messages = self.messages
        if len(messages) == messages.maxlen:
            self.dropped_upto = messages[0].id
        messages.append(message)
        for event in self.listeners:
            event.set()

    def start_after(self, after: int) -> int:
        """The index of the first message newer than `after`."""
        messages = self.messages
        count = len(messages)
        if not count or messages[-1].id <= after:
            return count
        if count == 1 or messages[-2].id <= after:
            return count - 1  # only the newest: a live reader's usual case, no search
        if messages[0].id > after:
            return 0
        return bisect_right(messages, after, key=_message_id)

    def read(self, after: int, limit: int) -> Batch:
        # Read once per recipient of every message by a live stream (WebSocket, SSE): the
        # newest message alone is found and paged without a search or a loop (timeit on the
        # shared lab machine, a stream of 1,000: 7.0-7.9 µs a read before, 4.0-5.4 after)
        messages = self.messages
        count = len(messages)
        start = self.start_after(after)
        gap_oldest = messages[0].id if after < self.dropped_upto else None
        if start == count:
            return Batch([], after, gap_oldest)
        end = min(count, start + limit)
        if end - start == 1:
            page = [messages[start]]
        else:
            page = [messages[i] for i in range(start, end)] if start else list(messages)[:end]
        return Batch(page, page[-1].id, gap_oldest, count - end)


class MemoryStorage:
    def __init__(self, stream_retention: int = 1000, room_retention: int = 1000) -> None:
        self._stream_retention = stream_retention
        self._room_retention = room_retention
        self._last_id = 0
        self._streams: dict[str, Stream] = {}
        self._histories: dict[str, deque[Message]] = {}

    def allocate_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def newest_id(self) -> int:
        return self._last_id

    def open_stream(self, owner: str) -> None:
        self._streams[owner] = Stream(self._stream_retention)

    def close_stream(self, owner: str) -> None:
        stream = self._streams.pop(owner, None)
        if stream is not None:
            for event in stream.listeners:
                event.set()

    def deliver(self, message: Message, owners: Iterable[str]) -> None:
        streams = self._streams
        for owner in owners:
            stream = streams.get(owner)
            if stream is not None:
                stream.append(message)

    def read(self, owner: str, after: int, limit: int) -> Batch:
        stream = self._streams.get(owner)
        if stream is None:
            return Batch(messages=[], cursor=after, ended=True)
        return stream.read(after, limit)

    def backlog(self, owner: str, after: int) -> int:
        stream = self._streams.get(owner)
        if stream is None:
            return 0
        return len(stream.messages) - stream.start_after(after)

    def listen(self, owner: str, event: Event) -> None:
        stream = self._streams.get(owner)
        if stream is None:
            event.set()
        else:
            stream.listeners.append(event)

    def unlisten(self, owner: str, event: Event) -> None:
        stream = self._streams.get(owner)
        if stream is not None and event in stream.listeners:
            stream.listeners.remove(event)

    def add_to_history(self, room: str, message: Message) -> None:
        history = self._histories.get(room)
        if history is None:
            history = self._histories[room] = deque(maxlen=self._room_retention)
        history.append(message)

    def history(self, room: str, limit: int) -> list[Message]:
        history = self._histories.get(room, ())
        return list(history)[-limit:]

    def drop_history(self, room: str) -> None:
        self._histories.pop(room, None)
