"""The byte counts read from a server socket: what the server has taken off it, so that a
request arriving before the previous answer is charged is not charged to that answer."""

import socket
import time

from lab.wire_bytes import read_wire_count


def _connected_pair() -> tuple[socket.socket, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return client, server


def _wait_until_queued(sock: socket.socket, count: int, timeout: float = 10.0) -> None:
    """Until `count` bytes wait unread on `sock` (they have crossed loopback)."""
    deadline = time.monotonic() + timeout
    while len(sock.recv(count, socket.MSG_PEEK)) < count:
        assert time.monotonic() < deadline, "the bytes never arrived"


def test_bytes_still_unread_are_not_counted_until_the_server_reads_them():
    client, server = _connected_pair()
    try:
        client.sendall(b"x" * 100)
        _wait_until_queued(server, 100)
        assert read_wire_count(server).bytes_in == 0
        server.recv(40)
        assert read_wire_count(server).bytes_in == 40
        server.recv(60)
        assert read_wire_count(server).bytes_in == 100
    finally:
        client.close()
        server.close()


def test_bytes_sent_are_counted_on_the_sending_side():
    client, server = _connected_pair()
    try:
        server.sendall(b"y" * 250)
        _wait_until_queued(client, 250)
        assert read_wire_count(server).bytes_out == 250
        assert read_wire_count(client).bytes_in == 0  # not read yet by the client
    finally:
        client.close()
        server.close()
