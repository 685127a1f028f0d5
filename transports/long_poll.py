"""Long polling: `GET /api/longpoll?since=N&timeout=T` answers when a message exists, or at T."""

import math
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from chat_core import ChatError, ErrorCode, Session, Transport

from .http_body import JSON
from .polling import Query, poll_answer, requested_cursor
from .state import ServerState, state

bp = Blueprint(Transport.LONG_POLL, __name__)


def requested_timeout(config: Mapping[str, Any], query: Query) -> float:
    raw = query.get("timeout")
    if raw is None or raw == "":
        return float(config["LONG_POLL_TIMEOUT"])
    try:
        timeout = float(raw)
    except ValueError:
        raise ChatError(ErrorCode.BAD_REQUEST, "'timeout' must be a number of seconds.") from None
    if not math.isfinite(timeout) or timeout < 0:
        raise ChatError(ErrorCode.BAD_REQUEST, "'timeout' must be a number of seconds.")
    return min(timeout, float(config["LONG_POLL_MAX"]))


def answer(server: ServerState, config: Mapping[str, Any], session: Session, query: Query) -> bytes:
    chat = server.chat
    cursor, timeout = requested_cursor(chat, query), requested_timeout(config, query)
    chat.stream_opened(session)
    try:
        batch = chat.wait(session, cursor, timeout)
    finally:
        chat.stream_closed(session)
    return poll_answer(batch, server.metrics.transports[Transport.LONG_POLL])


@bp.get("/api/longpoll")
def long_poll() -> Response:
    """Served by the gateway (transports.gateway) but for HEAD and servers without it."""
    body = answer(state(), current_app.config, g.chat_session, request.args)
    return Response(body, mimetype=JSON)
