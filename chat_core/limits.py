"""What the core allows: sizes, retention, rates, and how much one client may make it keep.
One frozen object, set by the server's config, where each field is a setting of its name in
capitals (`CHATLAB_MAX_TEXT`…) with this default.

The bounds on what clients may hold are sized for `chatlab serve` in a class: dozens to
hundreds of people, one machine each (docs/PROTOCOL.md, "Settings", says why each default).
The load lab, which logs in thousands of users from one address, raises them.
"""

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
    room_grace: float = 600.0  # seconds a room may stay without members before it is forgotten
    max_sessions: int = 2000  # sessions the server holds at once
    max_sessions_per_client: int = 32  # sessions logged in from one client address at once
    max_rooms: int = 1000  # rooms the server holds at once
    max_rooms_per_client: int = 16  # rooms that sessions of one address created, still held
    max_rooms_per_session: int = 64  # rooms one session is in at once
    max_streams_per_session: int = 8  # SSE streams, WebSockets and long polls open at once
