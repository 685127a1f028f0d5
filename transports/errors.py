"""Every error leaves the server in one shape: {"error": code, "detail": sentence}."""

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.routing import WebsocketMismatch

from chat_core import ChatError, ErrorCode

log = logging.getLogger(__name__)

# HTTP errors raised by Flask or Werkzeug themselves, in the protocol's words: each status
# as the one general code that has it (chat_core.ErrorCode.status); any other is bad_request
_FRAMEWORK_CODES = (ErrorCode.BAD_REQUEST, ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN,
                    ErrorCode.NOT_FOUND, ErrorCode.TOO_LARGE, ErrorCode.RATE_LIMITED)  # fmt: skip
_HTTP_CODES = {code.status: code for code in _FRAMEWORK_CODES}


def error_response(error: ChatError) -> Response:
    response = jsonify(error.as_dict())
    response.status_code = error.status
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(error.retry_after + 0.499)))
    return response


def _http_error(error: HTTPException) -> Response:
    code = _HTTP_CODES.get(error.code or 500, ErrorCode.BAD_REQUEST)
    if error.code == 413:
        detail = "The request body is larger than this server accepts."
    elif isinstance(error, WebsocketMismatch):
        detail = "This endpoint speaks WebSocket only: send a GET with 'Upgrade: websocket'."
    else:
        detail = error.description or error.name
    response = jsonify({"error": str(code), "detail": detail})
    response.status_code = error.code or 500
    for name, value in error.get_headers():  # e.g. the Allow of a 405, which HTTP requires
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    response = jsonify(
        {"error": str(ErrorCode.UNAVAILABLE), "detail": "The server failed on this request."}
    )
    response.status_code = 500
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ChatError, error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
