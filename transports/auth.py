"""Who is asking, decided once per request before any view runs.

Order: a cross-site browser request is refused first (403), then the session is looked up
from the Authorization header, `?token=`, or the signed cookie, in that order (401), then a
request that opens a stream is refused if its session has all the streams it may (429).

The rules read a request only through `Asking`, so that Flask's views (`authenticate_request`,
from the app's before_request) and the transport gateway in front of Flask
(`transports.gateway`) are judged by the same code.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from flask import g, request, session

from chat_core import Chat, ChatError, ErrorCode, Session

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


def unmetered(view: View) -> View:
    """Mark a view whose traffic is not charged to the caller's own session counters
    (the view that reports those counters: asking must not change the answer)."""
    view.chatlab_unmetered = True  # type: ignore[attr-defined]
    return view


@dataclass(slots=True)
class Asking:
    """What the rules read of a request."""

    method: str
    origin: str | None
    host: str  # the Host it was sent to, as Werkzeug reads it
    scheme: str
    authorization: str | None
    query_token: str | None
    cookie_token: Callable[[], str | None]  # read only when nothing else names a token


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
    """Refuse a forged origin for a request Flask serves (the pages' own forms use it)."""
    refuse_forged_origin(_flask_asking(), view)


def refuse_forged_origin(asking: Asking, view: Callable) -> None:
    origin = asking.origin
    if origin is None:
        return  # not a browser: nothing to forge
    if asking.method not in _STATE_CHANGING and not getattr(view, "chatlab_streaming", False):
        return
    if not _origin_matches_host(origin, asking.host, asking.scheme):
        raise ChatError(
            ErrorCode.FORBIDDEN, f"Requests from {origin} are not accepted by this server."
        )


def request_token(asking: Asking) -> str | None:
    header = asking.authorization
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ChatError(ErrorCode.UNAUTHORIZED, "Authorization must be 'Bearer <token>'.")
        return token.strip()
    if asking.query_token:
        return asking.query_token
    return asking.cookie_token()


def current_session(asking: Asking, chat: Chat) -> Session:
    token = request_token(asking)
    if token is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "Log in first: POST /api/session.")
    found = chat.authenticate(token)
    if found is None:
        raise ChatError(ErrorCode.UNAUTHORIZED, "This session is unknown or has ended.")
    return found


def authenticate(asking: Asking, view: Callable, chat: Chat) -> Session | None:
    """Refuse forged origins, then find the caller's session (None for a public view)."""
    refuse_forged_origin(asking, view)
    if getattr(view, "chatlab_public", False):
        return None
    found = current_session(asking, chat)
    if getattr(view, "chatlab_streaming", False):
        # refused here, as an HTTP answer: a WebSocket past its quota is never upgraded
        chat.check_stream_quota(found)
    return found


def _flask_asking() -> Asking:
    headers = request.headers
    return Asking(
        method=request.method,
        origin=headers.get("Origin"),
        host=request.host,
        scheme=request.scheme,
        authorization=headers.get("Authorization"),
        query_token=request.args.get("token"),
        cookie_token=lambda: session.get("token"),
    )


def authenticate_request(view: Callable) -> None:
    """Run before every API view that Flask serves: `authenticate`, then charge the caller."""
    server = state()
    found = authenticate(_flask_asking(), view, server.chat)
    if found is None:
        return
    g.chat_session = found
    meter = request.environ.get("chatlab.meter")
    if meter is not None and not getattr(view, "chatlab_unmetered", False):
        meter.charge_session(server.metrics.session_wire(found))
