"""What short and long polling share: reading `since`, and writing a poll answer."""

from flask import Response, request

from chat_core import Batch, ChatError, ErrorCode

from .http_body import JSON, batch_body
from .metrics import TransportCounters
from .state import state


def requested_cursor() -> int:
    return state().chat.cursor(request.args.get("since"))


def poll_answer(batch: Batch, counters: TransportCounters) -> Response:
    if batch.ended:
        raise ChatError(ErrorCode.UNAUTHORIZED, "This session ended while it waited.")
    counters.polls += 1
    if batch.messages:
        counters.delivered += len(batch.messages)
    else:
        counters.empty_polls += 1
    return Response(batch_body(batch), mimetype=JSON)
