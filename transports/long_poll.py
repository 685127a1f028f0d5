"""Long polling: `GET /api/longpoll?since=N&timeout=T` answers when a message exists, or at T."""

import math

from flask import Blueprint, Response, current_app, g, request

from chat_core import ChatError, ErrorCode, Transport

from .polling import poll_answer, requested_cursor
from .state import state

bp = Blueprint(Transport.LONG_POLL, __name__)


def requested_timeout() -> float:
    raw = request.args.get("timeout")
    if raw is None or raw == "":
        return float(current_app.config["LONG_POLL_TIMEOUT"])
    try:
        timeout = float(raw)
    except ValueError:
        raise ChatError(ErrorCode.BAD_REQUEST, "'timeout' must be a number of seconds.") from None
    if not math.isfinite(timeout) or timeout < 0:
        raise ChatError(ErrorCode.BAD_REQUEST, "'timeout' must be a number of seconds.")
    return min(timeout, float(current_app.config["LONG_POLL_MAX"]))


@bp.get("/api/longpoll")
def long_poll() -> Response:
    server = state()
    session = g.chat_session
    cursor, timeout = requested_cursor(), requested_timeout()
    server.chat.stream_opened(session)
    try:
        batch = server.chat.wait(session, cursor, timeout)
    finally:
        server.chat.stream_closed(session)
    return poll_answer(batch, server.metrics.transports[Transport.LONG_POLL])
