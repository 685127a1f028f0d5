"""Short polling: `GET /api/poll?since=N` answers at once with whatever is waiting."""

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, g, request

from chat_core import Session, Transport

from .http_body import JSON
from .polling import Query, poll_answer, requested_cursor
from .state import ServerState, state

bp = Blueprint(Transport.SHORT_POLL, __name__)


def answer(server: ServerState, config: Mapping[str, Any], session: Session, query: Query) -> bytes:
    batch = server.chat.read(session, requested_cursor(server.chat, query))
    return poll_answer(batch, server.metrics.transports[Transport.SHORT_POLL])


@bp.get("/api/poll")
def poll() -> Response:
    """Served by the gateway (transports.gateway) but for HEAD and servers without it."""
    body = answer(state(), current_app.config, g.chat_session, request.args)
    return Response(body, mimetype=JSON)
