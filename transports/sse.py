"""Server-Sent Events: `GET /api/stream?since=N` (or `Last-Event-ID`), one event per message."""

from collections.abc import Iterator

from flask import Blueprint, Response, current_app, g, request

from chat_core import Message, Transport
from wire import sse

from .auth import streaming
from .hangup import watch_for_hangup
from .outbox import Outbox
from .state import state

bp = Blueprint(Transport.SSE, __name__)

_OPENING = sse.retry(2000)  # sent at once, so the client sees the stream open
_PING = sse.comment(b"ping")


def sse_message(message: Message) -> bytes:
    return sse.event(message.json, id=message.id)


def sse_gap(oldest: int) -> bytes:
    return sse.event(b'{"oldest":%d}' % oldest, type="gap")


@bp.get("/api/stream")
@streaming
def stream() -> Response:
    server = state()
    since = request.headers.get("Last-Event-ID") or request.args.get("since")
    config = current_app.config
    outbox = Outbox(
        server,
        g.chat_session,
        Transport.SSE,
        cursor=server.chat.cursor(since),
        meter=request.environ.get("chatlab.meter"),
        sock=request.environ.get("chatlab.socket"),
        send_queue=int(config["SEND_QUEUE"]),
        batch_size=int(config["WRITE_BATCH"]),
    )
    events = _events(outbox, float(config["SSE_PING"]), request.environ.get("chatlab.socket"))
    return Response(
        events,
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _events(outbox: Outbox, ping_every: float, sock: object | None) -> Iterator[bytes]:
    """Each yield is one socket write by the server; the generator resumes once it is done.
    The stream ends as soon as its client has gone (`hangup`), not at the next failed write."""
    outbox.open()
    unwatch = watch_for_hangup(sock, lambda: _gone(outbox)) if sock is not None else None
    try:
        with outbox.writing():
            yield _OPENING
        while not outbox.live.aborted:
            batch = outbox.next_batch()
            if batch.ended:
                return
            chunk = [sse_gap(batch.gap_oldest)] if batch.gap_oldest is not None else []
            chunk.extend(m.wire("sse", sse_message) for m in batch.messages)
            if chunk:
                with outbox.writing():
                    yield b"".join(chunk)
                outbox.handed_over(batch)
                if outbox.overflowing(batch):
                    return  # too slow: the client reconnects with Last-Event-ID
                if batch.remaining:
                    continue
            if not outbox.wakeup.wait(ping_every):
                with outbox.writing():
                    yield _PING
    finally:
        if unwatch is not None:
            unwatch()
        outbox.close()


def _gone(outbox: Outbox) -> None:
    outbox.live.abort()
    outbox.wakeup.set()
