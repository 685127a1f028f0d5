"""The housekeeping loop's check for writers stuck in one socket write (transports.live):
which it cuts, and which it leaves to finish."""

import socket
import time

import pytest

from chat_core import Chat, Limits, ThreadingWaiting
from transports.live import LiveConnection, LiveConnections

SEND_QUEUE = 5


@pytest.fixture
def chat() -> Chat:
    return Chat(Limits(), waiting=ThreadingWaiting())


def stuck(chat: Chat, **fields) -> tuple[LiveConnection, socket.socket]:
    """A live connection whose writer entered its write 10 s ago; the socket's other end."""
    session = chat.login(f"user{time.monotonic_ns()}", client="127.0.0.1")
    ours, theirs = socket.socketpair()
    live = LiveConnection(session=session, transport="websocket", sock=ours,
                          cursor=chat.newest_id(), writing_since=time.monotonic() - 10)  # fmt: skip
    for name, value in fields.items():
        setattr(live, name, value)
    return live, theirs


def cut(theirs: socket.socket) -> bool:
    theirs.settimeout(0.0)
    try:
        return theirs.recv(1) == b""  # shut down: the other end reads the end at once
    except BlockingIOError:
        return False


@pytest.mark.parametrize(
    ("fields", "is_cut"),
    [
        ({"unsent_replies": 11, "reply_queue": 10}, True),  # more replies unsent than allowed
        ({"closing": True}, True),  # its close frame is stuck behind unread bytes
        ({"unsent_replies": 10, "reply_queue": 10}, False),  # at the bound, not past it
        ({"unsent_replies": 3, "reply_queue": 0}, False),  # a stream that sends no replies
        ({"closing": True, "writing_since": 0.0}, False),  # not inside a write at all
    ],
)
def test_a_writer_stuck_with_its_replies_or_close_unsent_is_cut(chat, fields, is_cut):
    live, theirs = stuck(chat, **fields)
    connections = LiveConnections()
    connections.add(live)
    try:
        assert connections.abort_stalled(chat, SEND_QUEUE, stalled_after=1.0) == int(is_cut)
        assert live.aborted is is_cut and cut(theirs) is is_cut
    finally:
        theirs.close()
        live.sock.close()
