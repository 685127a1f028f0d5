"""The server's settings, loaded with `app.config.from_object`; any can be overridden by an
environment variable `CHATLAB_<NAME>` (a JSON value), e.g. `CHATLAB_MAX_TEXT=100`."""

from chat_core import Limits


class Config:
    SECRET_KEY: str | None = None  # None: a random key for this process's life
    SESSION_COOKIE_NAME = "chatlab"
    SESSION_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 64 * 1024  # request body bytes; larger → 413 too_large

    MAX_TEXT = 4096  # code points in a message
    STREAM_RETENTION = 1000  # newest messages kept per user stream
    ROOM_RETENTION = 1000  # newest messages kept per room
    CID_MEMORY = 1000  # cids a session remembers for de-duplication
    RATE_PER_SECOND = 20.0
    RATE_BURST = 40
    SESSION_EXPIRY = 600.0  # seconds idle (no request, no open stream) before a name is freed
    POLL_PAGE = 500  # messages in one poll answer at most

    LONG_POLL_TIMEOUT = 25.0
    LONG_POLL_MAX = 60.0
    SSE_PING = 15.0  # seconds between `: ping` comments
    MAX_FRAME = 64 * 1024  # bytes in one incoming WebSocket message, all fragments together
    WS_ECHO = False  # /ws/echo, which sends every message back, for conformance suites
    SEND_QUEUE = 1000  # messages a WebSocket or SSE consumer may fall behind before it is closed
    WRITE_BATCH = 200  # messages written to a socket in one go at most
    CLOSE_TIMEOUT = 2.0  # seconds to wait for a client's close frame
    HOUSEKEEPING_INTERVAL = 1.0  # seconds between checks for stalled writers and idle sessions


def limits_from(config: dict) -> Limits:
    return Limits(
        max_text=int(config["MAX_TEXT"]),
        stream_retention=int(config["STREAM_RETENTION"]),
        room_retention=int(config["ROOM_RETENTION"]),
        cid_memory=int(config["CID_MEMORY"]),
        rate_per_second=float(config["RATE_PER_SECOND"]),
        rate_burst=int(config["RATE_BURST"]),
        session_expiry=float(config["SESSION_EXPIRY"]),
        page_size=int(config["POLL_PAGE"]),
    )
