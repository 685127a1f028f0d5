"""Every error leaves the server in one shape: {"error": code, "detail": sentence}.

`error_answer` builds it (status, headers, body) for Flask's error handlers and for the
transport gateway alike, so the two paths cannot drift apart.
"""

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import WebsocketMismatch

from chat_core import ChatError, ErrorCode
from chat_core.message import dumps

from .http_body import JSON

log = logging.getLogger(__name__)

# HTTP errors raised by Flask or Werkzeug themselves, in the protocol's words: each status
# as the one general code that has it (chat_core.ErrorCode.status); any other is bad_request
_FRAMEWORK_CODES = (ErrorCode.BAD_REQUEST, ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN,
                    ErrorCode.NOT_FOUND, ErrorCode.TOO_LARGE, ErrorCode.RATE_LIMITED)  # fmt: skip
_HTTP_CODES = {code.status: code for code in _FRAMEWORK_CODES}

Answer = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body


def status_line(status: int) -> str:
    """The status as WSGI's start_response takes it, worded as Werkzeug words it."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}"


def error_answer(error: ChatError, status: int | None = None) -> Answer:
    body = dumps(error.as_dict())
    headers = [("Content-Type", JSON), ("Content-Length", str(len(body)))]
    if error.retry_after is not None:
        headers.append(("Retry-After", str(max(1, round(error.retry_after + 0.499)))))
    return status or error.status, headers, body


def unexpected_answer(error: BaseException) -> Answer:
    """An unexpected failure: logged, and answered 500 unavailable."""
    log.exception("unhandled error", exc_info=error)
    refusal = ChatError(ErrorCode.UNAVAILABLE, "The server failed on this request.")
    return error_answer(refusal, status=500)


def _response(answer: Answer) -> Response:
    status, headers, body = answer
    return Response(body, status=status, headers=headers)


def error_response(error: ChatError) -> Response:
    return _response(error_answer(error))


def http_error_answer(error: HTTPException) -> Answer:
    """An HTTP error raised by Flask or Werkzeug themselves, in the protocol's words."""
    code = _HTTP_CODES.get(error.code or 500, ErrorCode.BAD_REQUEST)
    if error.code == 413:
        detail = "The request body is larger than this server accepts."
    elif isinstance(error, WebsocketMismatch):
        detail = "This endpoint speaks WebSocket only: send a GET with 'Upgrade: websocket'."
    else:
        detail = error.description or error.name
    status, headers, body = error_answer(ChatError(code, detail), status=error.code or 500)
    for name, value in error.get_headers():  # e.g. the Allow of a 405, which HTTP requires
        if name.lower() != "content-type":
            headers.append((name, value))
    return status, headers, body


def _http_error(error: HTTPException) -> Response:
    return _response(http_error_answer(error))


def _unexpected(error: Exception) -> Response:
    return _response(unexpected_answer(error))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ChatError, error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
