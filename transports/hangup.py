"""Noticing at once that the client of a server-to-client stream (SSE) has gone.

A server learns of a closed connection only from a read that returns EOF, or from a write: the
first write after the client's FIN still succeeds (into the kernel's buffer; the peer answers
it with a reset) and only the next one fails. With a ping every `SSE_PING` (15 s) an SSE
stream whose client had gone stayed open 28-32 s, holding a stream of its session's
`MAX_STREAMS_PER_SESSION` all that time. An SSE client never sends anything after its
request, so the connection's socket turning readable means EOF (or a client that breaks the
protocol): a read watcher on the socket, one per stream and no greenlet, says so at once.
"""

import socket
from collections.abc import Callable

from gevent import get_hub

_READ = 1  # libev's and libuv's EV_READ


def watch_for_hangup(sock: socket.socket, gone: Callable[[], None]) -> Callable[[], None]:
    """Call `gone()` (in the event loop: it must not block) once the peer of `sock` has closed
    the connection, or sent anything, or reset it; returns the function that stops watching."""
    watcher = get_hub().loop.io(sock.fileno(), _READ)

    def readable() -> None:
        watcher.stop()
        gone()

    watcher.start(readable)
    return watcher.close
