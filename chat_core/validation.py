"""Turning untrusted input into checked values, or a ChatError that says what was wrong."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ChatError, ErrorCode
from .limits import Limits

HISTORY_LIMIT_DEFAULT = 50  # messages of a room's history when the reader names no limit
HISTORY_LIMIT_MAX = 200


def parse_cid(payload: dict[str, Any], limits: Limits) -> str | None:
    cid = payload.get("cid")
    if cid is None:
        return None
    if not isinstance(cid, str) or not 1 <= len(cid) <= limits.max_cid:
        raise ChatError(
            ErrorCode.BAD_REQUEST, f"'cid' must be a string of 1 to {limits.max_cid} characters."
        )
    return cid


@dataclass(frozen=True, slots=True)
class SendRequest:
    room: str | None
    to: str | None
    text: str
    cid: str | None
    ts: float | None


def parse_send(
    payload: Any,
    limits: Limits,
    room_name: Callable[[Any], str],
    user_name: Callable[[Any], str],
) -> SendRequest:
    """Check a send's fields (room xor to, text, cid, ts); the sender never comes from here.
    `room_name` and `user_name` turn the room or the recipient into a name, or refuse it."""
    if not isinstance(payload, dict):
        raise ChatError(ErrorCode.BAD_REQUEST, "A message must be a JSON object.")
    cid = parse_cid(payload, limits)
    room, to = payload.get("room"), payload.get("to")
    if (room is None) == (to is None):
        raise ChatError(ErrorCode.BAD_REQUEST, "A message needs exactly one of 'room' and 'to'.")
    if room is not None:
        room = room_name(room)
    else:
        to = user_name(to)
    text = payload.get("text")
    if not isinstance(text, str):
        raise ChatError(ErrorCode.BAD_REQUEST, "'text' must be a string.")
    if not text:
        raise ChatError(ErrorCode.BAD_REQUEST, "'text' must not be empty.")
    if len(text) > limits.max_text:
        raise ChatError(
            ErrorCode.TOO_LARGE,
            f"'text' is {len(text)} characters; at most {limits.max_text} are allowed.",
        )
    ts = payload.get("ts")
    if ts is not None and (
        isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts)
    ):
        raise ChatError(ErrorCode.BAD_REQUEST, "'ts' must be a number.")
    return SendRequest(room=room, to=to, text=text, cid=cid, ts=ts)


def parse_cursor(value: Any, newest: int) -> int:
    """A `since` value: a whole number no newer than the newest id; None means from now on."""
    if value is None or value == "":
        return newest
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise ChatError(ErrorCode.BAD_REQUEST, "'since' must be a whole number (a message id).")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ChatError(ErrorCode.BAD_REQUEST, "'since' must be a whole number (a message id).")
    if value > newest:
        raise ChatError(
            ErrorCode.BAD_REQUEST,
            f"'since' is {value}, newer than the newest message ({newest}).",
        )
    return value


def parse_history_limit(value: Any) -> int:
    """How many of a room's newest messages to read: a whole number from 1 to the maximum,
    as a number or as the digits of a query string; None or "" for the default."""
    if value is None or value == "":
        return HISTORY_LIMIT_DEFAULT
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= HISTORY_LIMIT_MAX:
        raise ChatError(
            ErrorCode.BAD_REQUEST, f"'limit' must be a whole number from 1 to {HISTORY_LIMIT_MAX}."
        )
    return value
