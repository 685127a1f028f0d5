"""Who is asking, decided once per request before any view runs.

Order: a cross-site browser request is refused first (403), then the session is looked up
from the Authorization header, `?token=`, or the signed cookie, in that order (401), then a
request that opens a stream is refused if its session has all the streams it may (429).
"""

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import g, request, session

from chat_core import ChatError, ErrorCode, Session

from .state import state

View = TypeVar("View", bound=Callable)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def public(view: View) -> View:
    """Mark a view that needs no session."""
    view.chatlab_public = True  # type: ignore[attr-defined]
    return view


def streaming(view: View) -> View:
    """Mark a view that opens a stream (SSE, WebSocket): it is origin-checked like a write."""
    view.chatlab_streaming = True  # type: ignore[attr-defined]
    return view


def _origin_matches_host(origin: str, host: str, scheme: str) -> bool:
    if origin == "null":
        return False
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        host_parts = urlsplit(f"{scheme}://{host}")
        host_port = host_parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return False
    return (
        parts.scheme == scheme
        and parts.hostname is not None
        and parts.hostname == host_parts.hostname
        and origin_port == host_port
    )


def check_origin(view: Callable) -> None:
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser: nothing to forge
    if request.method not in _STATE_CHANGING and not getattr(view, "chatlab_streaming", False):
        return
    if not _origin_matches_host(origin, request.host, request.scheme):
        raise ChatError(
            ErrorCode.FORBIDDEN, f"Requests from {origin} are not accepted by this server."
        )


def request_token() -> str | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ChatError(ErrorCode.UNAUTHORIZED, "Authorization must be 'Bearer <token>'.")
        return token.strip()
    token = request.args.get("token")
    if token:
        return token
    return session.get("token")


def current_session() -> Session:
    token = request_token()
    if token is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "Log in first: POST /api/session.")
    found = state().chat.authenticate(token)
    if found is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "This session is unknown or has ended.")
    return found


def unmetered(view: View) -> View:
    """Mark a view whose traffic is not charged to the caller's own session counters
    (the view that reports those counters: asking must not change the answer)."""
    view.chatlab_unmetered = True  # type: ignore[attr-defined]
    return view


def authenticate_request(view: Callable) -> None:
    """Run before every API view: refuse forged origins, then find the caller's session."""
    check_origin(view)
    if getattr(view, "chatlab_public", False):
        return
    g.chat_session = current_session()
    if getattr(view, "chatlab_streaming", False):
        # refused here, as an HTTP answer: a WebSocket past its quota is never upgraded
        state().chat.check_stream_quota(g.chat_session)
    meter = request.environ.get("chatlab.meter")
    if meter is not None and not getattr(view, "chatlab_unmetered", False):
        meter.charge_session(state().metrics.session_wire(g.chat_session))
