"""Each new connection of a geventhttpclient HTTPClient, handed to us, and kept-alive ones
reused whatever their descriptor's number: the one place chatlab reaches into
geventhttpclient.

The load clients need every connection's socket, to set TCP_NODELAY as browsers do and to cut
the connection on purpose (a simulated network drop). geventhttpclient offers no public way:
its connection pool has an `after_connect(sock)` hook made to be overridden, but HTTPClient
builds the pool itself and keeps it in the private `_connection_pool`. `on_connect` sets the
hook on that pool.

Before it reuses a kept-alive connection, the pool checks that the socket is idle with
`select()`, which cannot take a descriptor above 1,023: the check fails, and the pool closes
the connection and opens a new one. A generator of 1,000 HTTP users holds over 2,000 sockets,
so about half of every request went out over a new connection (1,000 long-polling users,
25 s: 20,949 new connections for ~40,000 polls, the server accepting some 800 a second and
paying a handshake and a handler for each). `on_connect` gives the pool the same check made
with `poll()`, which has no such bound. tests/test_library_reaches.py checks both, for the
geventhttpclient installed: the hook sees every new connection and only those, and a
connection whose descriptor is over 1,023 is reused.
"""

import select
import socket
from collections.abc import Callable

from gevent.monkey import get_original
from geventhttpclient import HTTPClient
from geventhttpclient.connectionpool import ConnectionPool

for _reached in ("after_connect", "_is_socket_alive"):
    if not callable(getattr(ConnectionPool, _reached, None)):
        raise ImportError(
            f"geventhttpclient's ConnectionPool has no {_reached} any more: this release is "
            "outside the range chatlab is tested with (see pyproject.toml)"
        )

# the system's poll, not gevent's: a check that never waits (gevent's monkey-patching
# removes select.poll)
_poll = get_original("select", "poll")


def idle_and_open(sock: socket.socket | None) -> bool:
    """What the pool's own check answers, for any descriptor: the socket is open and has
    nothing to read (a kept-alive connection that is readable has been closed by the server,
    or holds bytes nobody asked for)."""
    if sock is None or sock.fileno() < 0:
        return False
    waiting = _poll()
    waiting.register(sock.fileno(), select.POLLIN | select.POLLPRI)
    return not waiting.poll(0)


def on_connect(client: HTTPClient, connected: Callable[[socket.socket], None]) -> None:
    """Call `connected(sock)` for each connection `client` opens, before its first request;
    and let `client` reuse its kept-alive connections whatever their descriptors' numbers."""
    pool = getattr(client, "_connection_pool", None)
    if not isinstance(pool, ConnectionPool):
        raise RuntimeError(
            "geventhttpclient's HTTPClient keeps no _connection_pool any more: this release is "
            "outside the range chatlab is tested with (see pyproject.toml)"
        )
    pool.after_connect = connected
    pool._is_socket_alive = idle_and_open
