"""What short and long polling share: reading `since`, and writing a poll answer.

A poll's answer is worked out from plain values (the server, the settings, the caller, the
query), so that the transport gateway and Flask's own view give the same answer.
"""

from collections.abc import Mapping

from chat_core import Batch, Chat, ChatError, ErrorCode

from .http_body import batch_body
from .metrics import TransportCounters

Query = Mapping[str, str]  # a request's query arguments, the first value of each name


def requested_cursor(chat: Chat, query: Query) -> int:
    return chat.cursor(query.get("since"))


def poll_answer(batch: Batch, counters: TransportCounters) -> bytes:
    if batch.ended:
        raise ChatError(ErrorCode.UNAUTHORIZED, "This session ended while it waited.")
    counters.polls += 1
    if batch.messages:
        counters.delivered += len(batch.messages)
    else:
        counters.empty_polls += 1
    return batch_body(batch)
