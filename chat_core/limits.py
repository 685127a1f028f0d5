"""What the core allows: sizes, retention, rates. One frozen object, set by the server's config,
where each field is a setting of its name in capitals (`CHATLAB_MAX_TEXT`…) with this default."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_text: int = 4096  # code points in a message's text
    max_name: int = 32  # code points in a user or room name
    max_cid: int = 128  # characters in a client's message id
    stream_retention: int = 1000  # newest messages kept per user stream
    room_retention: int = 1000  # newest messages kept per room for its history
    cid_memory: int = 1000  # cids remembered per session for de-duplication
    rate_per_second: float = 20.0  # sustained sends per session
    rate_burst: int = 40  # sends a session may make at once
    session_expiry: float = 600.0  # seconds a session may idle with no request and no stream
    poll_page: int = 500  # messages in one poll answer at most
