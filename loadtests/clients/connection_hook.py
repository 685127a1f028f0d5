"""Each new connection of a geventhttpclient HTTPClient, handed to us: the one place chatlab
reaches into geventhttpclient.

The load clients need every connection's socket, to set TCP_NODELAY as browsers do and to cut
the connection on purpose (a simulated network drop). geventhttpclient offers no public way:
its connection pool has an `after_connect(sock)` hook made to be overridden, but HTTPClient
builds the pool itself and keeps it in the private `_connection_pool`. `on_connect` sets the
hook on that pool; tests/test_library_reaches.py checks, for the geventhttpclient installed,
that the hook still sees every new connection and only those.
"""

import socket
from collections.abc import Callable

from geventhttpclient import HTTPClient
from geventhttpclient.connectionpool import ConnectionPool

if not callable(getattr(ConnectionPool, "after_connect", None)):
    raise ImportError(
        "geventhttpclient's ConnectionPool has no after_connect hook any more: this release is "
        "outside the range chatlab is tested with (see pyproject.toml)"
    )


def on_connect(client: HTTPClient, connected: Callable[[socket.socket], None]) -> None:
    """Call `connected(sock)` for each connection `client` opens, before its first request."""
    pool = getattr(client, "_connection_pool", None)
    if not isinstance(pool, ConnectionPool):
        raise RuntimeError(
            "geventhttpclient's HTTPClient keeps no _connection_pool any more: this release is "
            "outside the range chatlab is tested with (see pyproject.toml)"
        )
    pool.after_connect = connected
