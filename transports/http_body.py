"""Reading a JSON request body and writing JSON bodies, the same way for every view."""

import json
from typing import Any

from flask import Response, request

from chat_core import Batch, ChatError, ErrorCode
from chat_core.message import dumps

JSON = "application/json"


def json_body() -> dict[str, Any]:
    """The request's JSON object; bad_json if it does not parse, bad_request if not an object."""
    return json_object(request.get_data(cache=True))  # over MAX_CONTENT_LENGTH: 413 too_large


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body's JSON object, for Flask's views and the gateway (transports.gateway)."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ChatError(ErrorCode.BAD_JSON, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ChatError(ErrorCode.BAD_REQUEST, "The request body must be a JSON object.")
    return value


def json_response(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status=status, mimetype=JSON)


def batch_body(batch: Batch) -> bytes:
    """A poll answer: the messages' stored JSON spliced in, never re-serialized."""
    parts = [b'{"messages":[', b",".join(m.json for m in batch.messages), b'],"cursor":']
    parts.append(str(batch.cursor).encode())
    if batch.gap_oldest is not None:
        parts.append(b',"gap":true,"oldest":%d' % batch.gap_oldest)
    parts.append(b"}")
    return b"".join(parts)
