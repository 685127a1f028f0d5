"""Short polling: `GET /api/poll?since=N` answers at once with whatever is waiting."""

from flask import Blueprint, Response, g

from chat_core import Transport

from .polling import poll_answer, requested_cursor
from .state import state

bp = Blueprint(Transport.SHORT_POLL, __name__)


@bp.get("/api/poll")
def poll() -> Response:
    server = state()
    batch = server.chat.read(g.chat_session, requested_cursor())
    return poll_answer(batch, server.metrics.transports[Transport.SHORT_POLL])
