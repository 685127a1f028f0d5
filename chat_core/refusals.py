"""The chat's refusals, each said once: the memory chat and any shared backend refuse with
the same code and the same sentence."""

from .errors import ChatError, ErrorCode
from .limits import Limits


def session_ended() -> ChatError:
    return ChatError(ErrorCode.UNAUTHORIZED, "This session has ended; log in again.")


def name_taken(name: str, given: object) -> ChatError:
    reads_as = "" if given == name else f" ('{given}' reads as '{name}')"
    return ChatError(ErrorCode.NAME_TAKEN, f"The name '{name}' is in use{reads_as}.")


def name_lookalike(name: str, holder: str) -> ChatError:
    return ChatError(
        ErrorCode.BAD_REQUEST,
        f"The name '{name}' looks like the name '{holder}', already in use.",
    )


def room_lookalike(room: str, holder: str) -> ChatError:
    return ChatError(
        ErrorCode.BAD_REQUEST,
        f"The room name '{room}' looks like the room '{holder}', already in use.",
    )


def sessions_per_client(limits: Limits) -> ChatError:
    per_client = limits.max_sessions_per_client
    return ChatError(
        ErrorCode.LIMIT_REACHED,
        f"This address holds {per_client} sessions, the most one address may "
        "(MAX_SESSIONS_PER_CLIENT): log one of them out first.",
    )


def sessions_in_all(limits: Limits) -> ChatError:
    return ChatError(
        ErrorCode.LIMIT_REACHED,
        f"The server holds {limits.max_sessions} sessions, the most it allows "
        "(MAX_SESSIONS): try again once some have logged out.",
    )


def rooms_per_session(limits: Limits) -> ChatError:
    limit = limits.max_rooms_per_session
    return ChatError(
        ErrorCode.LIMIT_REACHED,
        f"This session is in {limit} rooms, the most one session may be in "
        "(MAX_ROOMS_PER_SESSION): leave one first.",
    )


def rooms_per_client(limits: Limits) -> ChatError:
    per_client = limits.max_rooms_per_client
    return ChatError(
        ErrorCode.LIMIT_REACHED,
        f"Sessions from this address have made {per_client} rooms that still exist, the "
        "most one address may (MAX_ROOMS_PER_CLIENT): join an existing room.",
    )


def rooms_in_all(limits: Limits) -> ChatError:
    return ChatError(
        ErrorCode.LIMIT_REACHED,
        f"The server holds {limits.max_rooms} rooms, the most it allows "
        "(MAX_ROOMS): join an existing room.",
    )


def streams_per_session(limits: Limits) -> ChatError:
    limit = limits.max_streams_per_session
    return ChatError(
        ErrorCode.LIMIT_REACHED,
        f"This session has {limit} streams open (SSE streams, WebSockets and long polls "
        "together), the most one session may (MAX_STREAMS_PER_SESSION): close one first.",
    )


def no_such_user(name: str) -> ChatError:
    return ChatError(ErrorCode.NO_SUCH_USER, f"There is no user named '{name}'.")


def no_such_room(room: str) -> ChatError:
    return ChatError(ErrorCode.NOT_FOUND, f"There is no room named '{room}'.")


def not_a_member(room: str) -> ChatError:
    return ChatError(ErrorCode.FORBIDDEN, f"Join the room '{room}' first.")


def rate_limited(limits: Limits, wait: float) -> ChatError:
    return ChatError(
        ErrorCode.RATE_LIMITED,
        f"Too many messages: at most {limits.rate_per_second:g} a second.",
        retry_after=wait,
    )


def not_an_object() -> ChatError:
    return ChatError(ErrorCode.BAD_REQUEST, "A message must be a JSON object.")
