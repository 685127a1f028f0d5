"""Server-Sent Events (the HTML standard's `text/event-stream`): the server's encoders, and a
parser that clients push bytes or lines into and take whole events out of.

The parser follows the standard's interpretation rules: lines end in CRLF, LF or CR, a line
starting with ':' is a comment, a field's value loses one leading space, `data` lines join
with LF, a blank line dispatches the event (none when it carried no data), and the last
event id carries over from one event to the next.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # "message" unless the event named another
    data: bytes
    last_id: str | None = None  # the last `id` the stream sent, at this event or before


def event(data: bytes, type: str = "message", id: int | None = None) -> bytes:
    """One event as the server writes it; `data` must hold no line break (JSON holds none)."""
    head = b"" if id is None else b"id: %d\n" % id
    return head + b"event: %s\ndata: %s\n\n" % (type.encode(), data)


def retry(milliseconds: int) -> bytes:
    """Tells the client how soon to reconnect after the stream ends."""
    return b"retry: %d\n\n" % milliseconds


def comment(text: bytes) -> bytes:
    """A line every client ignores: keeps an idle stream's connection busy."""
    return b": %s\n\n" % text


class EventParser:
    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry: int | None = None  # milliseconds, once the server has said
        self._type = ""
        self._data: list[bytes] = []
        self._partial = b""  # the start of a line whose end has not arrived
        self._after_cr = False  # the last chunk ended in CR: an LF first in the next is its pair

    def feed(self, chunk: bytes) -> list[Event]:
        """The events `chunk` completes, however the stream's bytes were cut."""
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = chunk.endswith(b"\r")
        lines = (self._partial + chunk).splitlines(keepends=True)
        self._partial = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        events = []
        for line in lines:
            found = self.feed_line(line.rstrip(b"\r\n"))
            if found is not None:
                events.append(found)
        return events

    def feed_line(self, line: bytes) -> Event | None:
        """One line without its line ending; the event it completes, if it is a blank line."""
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._type = value.decode("utf-8", errors="replace")
        elif name == b"id" and b"\0" not in value:
            self.last_id = value.decode("utf-8", errors="replace")
        elif name == b"retry" and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> Event | None:
        data, kind = self._data, self._type or "message"
        self._data, self._type = [], ""
        if not data:
            return None
        return Event(kind, b"\n".join(data), self.last_id)
