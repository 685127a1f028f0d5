"""Where chatlab leans on a library beyond its documented use, the exact behaviour it relies
on, checked for the installed release: each test fails loudly when the library changes."""

import os
import resource
import socket
from typing import Any

import gevent
import gevent.event
from gevent import socket as gsocket
from gevent.pywsgi import WSGIHandler, WSGIServer

from lab.process_usage import raise_file_limit
from loadtests.clients.http_clients import HttpChannel
from transports.pywsgi_one_write import OneWriteHandler
from transports.server import ChatlabHandler

FIXED_DATE = ("Date", "Thu, 01 Jan 1970 00:00:00 GMT")  # pywsgi adds the time otherwise


class RecordingSocket:
    """An accepted socket that keeps the bytes of every sendall."""

    def __init__(self, sock: socket.socket) -> None:
        self._wrapped = sock
        self.sendalls: list[bytes] = []

    def sendall(self, data: Any, *args: Any) -> None:
        self.sendalls.append(bytes(data))
        self._wrapped.sendall(data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class RecordingServer(WSGIServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: list[RecordingSocket] = []

    def handle(self, sock: socket.socket, address: Any) -> None:
        recording = RecordingSocket(sock)
        self.connections.append(recording)
        super().handle(recording, address)


def sized(environ: dict, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5"), FIXED_DATE])
    return [b"hello"]


def chunked(environ: dict, start_response: Any) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain"), FIXED_DATE])
    yield from (b"hel", b"lo", b"!")  # no length: pywsgi sends it chunked


def sendalls_for_one_request(handler: type[WSGIHandler], app: Any) -> tuple[list[bytes], bytes]:
    """What the server's handler passed to sendall for one GET, and what the client read."""
    server = RecordingServer(("127.0.0.1", 0), app, handler_class=handler, log=None)
    server.start()
    try:
        client = gsocket.create_connection(server.address, timeout=10)
        client.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        received = b""
        for _ in range(1000):
            chunk = client.recv(65536)
            if not chunk:
                break
            received += chunk
        client.close()
    finally:
        server.stop()
    (connection,) = server.connections
    return connection.sendalls, received


def test_chatlab_handler_writes_each_response_start_through_the_one_write_override():
    assert ChatlabHandler._write_with_headers is OneWriteHandler._write_with_headers
    assert OneWriteHandler._write_with_headers is not WSGIHandler._write_with_headers


def test_the_one_write_override_sends_pywsgis_own_bytes_with_its_first_two_writes_joined():
    for app in (sized, chunked):
        theirs, their_bytes = sendalls_for_one_request(WSGIHandler, app)
        ours, our_bytes = sendalls_for_one_request(OneWriteHandler, app)
        assert our_bytes == their_bytes == b"".join(theirs), app.__name__
        assert theirs[0].endswith(b"\r\n\r\n") and len(theirs) >= 2, app.__name__
        assert ours == [theirs[0] + theirs[1], *theirs[2:]], app.__name__


def test_gevent_send_with_timeout_zero_never_waits_for_room():
    """The WebSocket writer's first send (transports/websocket.py) must not let other
    greenlets run: it relies on gevent's send raising instead of waiting."""
    ours, peer = gsocket.socketpair()
    switched: list[bool] = []
    gevent.spawn(switched.append, True)  # runs as soon as this greenlet yields to the hub
    sent, full = 0, False
    with gevent.Timeout(10):  # were it to wait, nothing would ever make room
        for _ in range(10_000):  # the kernel buffer holds a few MB at most
            try:
                sent += ours.send(b"x" * 65536, 0, timeout=0.0)
            except BlockingIOError:
                full = True
                break
    assert full and sent > 0
    assert switched == []
    gevent.sleep(0)
    assert switched == [True]  # the probe does see a switch
    ours.close()
    peer.close()


class CountingServer(WSGIServer):
    """Counts connections; its app holds a request to /hold until `release` is set."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), self.app, log=None)
        self.accepted = 0
        self.holding = gevent.event.Event()
        self.release = gevent.event.Event()

    def handle(self, sock: socket.socket, address: Any) -> None:
        self.accepted += 1
        super().handle(sock, address)

    def app(self, environ: dict, start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/hold":
            self.holding.set()
            self.release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


def test_the_connection_hook_sees_each_new_connection_so_the_one_in_use_can_be_cut():
    server = CountingServer()
    server.start()
    fired: list[tuple] = []
    channel = HttpChannel(f"http://127.0.0.1:{server.server_port}", lambda *a: fired.append(a), 10)
    try:
        channel.request("GET", "/", "first", {})
        first = channel.sock
        assert first is not None
        assert first.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert first.getpeername()[1] == server.server_port
        channel.request("GET", "/", "again", {})
        assert channel.sock is first and server.accepted == 1  # kept alive, not reconnected

        failures: list[Exception] = []

        def held() -> None:
            try:
                channel.request("GET", "/hold", "held", {})
            except Exception as error:  # noqa: BLE001 - kept for the assertion below
                failures.append(error)

        waiting = gevent.spawn(held)
        assert server.holding.wait(10)
        channel.cut()
        waiting.join(10)
        assert waiting.dead and len(failures) == 1  # the request in flight was cut off
        assert [name for _, name, *_ in fired] == ["first", "again"]  # and not reported

        channel.request("GET", "/", "after the cut", {})
        assert channel.sock is not first and server.accepted == 2
        assert channel.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.release.set()
        channel.close()
        server.stop()


def test_a_kept_alive_connection_is_reused_when_its_descriptor_is_over_1023():
    # geventhttpclient's own idle check is a select(), which refuses such a descriptor: the pool
    # then took the connection for dead and opened a new one for every request
    raise_file_limit()
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 1200:
        raise AssertionError("this test needs 1,200 open files; the system allows fewer")
    server = CountingServer()
    server.start()
    channel = HttpChannel(f"http://127.0.0.1:{server.server_port}", lambda *a: None, 10)
    filler = [os.open(os.devnull, os.O_RDONLY)]
    try:
        while filler[-1] < 1100:  # every lower descriptor taken: the next ones are above 1,023
            filler.append(os.open(os.devnull, os.O_RDONLY))
        for name in ("first", "second", "third"):
            channel.request("GET", "/", name, {})
            assert channel.sock is not None and channel.sock.fileno() > 1023
        assert server.accepted == 1
    finally:
        channel.close()
        server.stop()
        for fd in filler:
            os.close(fd)
