"""The server's settings, loaded with `app.config.from_object`; any can be overridden by an
environment variable `CHATLAB_<NAME>` (a JSON value), e.g. `CHATLAB_MAX_TEXT=100`.

The chat's own limits are settings too: every field of `chat_core.Limits` under its name in
capitals (MAX_TEXT, STREAM_RETENTION, RATE_PER_SECOND, POLL_PAGE…), with Limits' default.
"""

from dataclasses import fields

from chat_core import Limits


class Config:
    SECRET_KEY: str | None = None  # None: a random key for this process's life
    SESSION_COOKIE_NAME = "chatlab"
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 64 * 1024  # request body bytes; larger → 413 too_large
    MAX_HEADER_BYTES = 16 * 1024  # a request's line and headers together; larger → 431
    REQUEST_TIMEOUT = 10.0  # seconds for a request to arrive in full, from its first byte
    KEEPALIVE_TIMEOUT = 30.0  # seconds a connection may idle between requests

    LONG_POLL_TIMEOUT = 25.0
    LONG_POLL_MAX = 60.0
    SSE_PING = 15.0  # seconds between `: ping` comments
    MAX_FRAME = 64 * 1024  # bytes in one incoming WebSocket message, all fragments together
    MAX_FRAGMENTS = 1024  # frames one incoming WebSocket message may come in
    WS_ECHO = False  # /ws/echo, which sends every message back, for conformance suites
    SEND_QUEUE = 1000  # messages a WebSocket or SSE consumer may fall behind before it is closed
    REPLY_QUEUE = 256  # replies (pongs, acks, errors) a WebSocket client may leave unread
    WRITE_BATCH = 200  # messages written to a socket in one go at most
    CLOSE_TIMEOUT = 2.0  # seconds to wait for a client's close frame
    HOUSEKEEPING_INTERVAL = 1.0  # seconds between checks for stalled writers and idle sessions
    # the shared backend: None keeps the chat in this process; "redis://HOST:PORT/DB" keeps
    # it in that Redis, shared by every process naming it (chat_redis)
    REDIS_URL: str | None = None
    REDIS_PREFIX = "chatlab:"  # the start of every key chatlab keeps in that Redis


for _limit in fields(Limits):
    setattr(Config, _limit.name.upper(), _limit.default)


def limits_from(config: dict) -> Limits:
    """The chat's limits from the app's settings, each as the type of its default."""
    return Limits(
        **{limit.name: type(limit.default)(config[limit.name.upper()]) for limit in fields(Limits)}
    )
