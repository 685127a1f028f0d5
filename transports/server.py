"""The gevent server: WSGIServer with gevent-websocket's handler, taught five things.

- Every accepted socket gets TCP_NODELAY: pywsgi never sets it, and Nagle's algorithm
  against delayed ACKs adds ~40 ms to small messages.
- A response's headers and first body bytes go out in one write (`pywsgi_one_write`).
- The access log line is formatted only when there is an access log.
- Every connection carries a meter that charges its bytes (TCP_INFO) to each request's
  transport.
- Requests are read under deadlines and bounds, with strict framing (`http_reading`).
- A WebSocket upgrade runs the app *before* the 101 is sent: the app authenticates as for
  any request, and only then calls `environ["chatlab.accept_websocket"]()`.
"""

import errno
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

import gevent
from gevent.pywsgi import WSGIHandler, WSGIServer
from geventwebsocket.handler import WebSocketHandler

from lab.collector import collect_less_often
from lab.process_usage import raise_file_limit

from . import backplane
from .http_reading import GuardedReading, RequestLimits
from .live import housekeeping
from .metrics import ConnectionMeter
from .pywsgi_one_write import OneWriteHandler


class ChatlabHandler(GuardedReading, OneWriteHandler, WebSocketHandler):
    upgraded = False

    def __init__(self, sock: socket.socket, address: Any, server: WSGIServer, rfile=None) -> None:
        super().__init__(sock, address, server, rfile)
        self.meter = ConnectionMeter(sock)

    def log_request(self) -> None:
        # gevent-websocket's log_request formats every request for a logger that prints
        # nothing; pywsgi's writes to the server's log, which is there only with --access-log
        if self.server.access_log:
            WSGIHandler.log_request(self)

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["chatlab.meter"] = self.meter
        environ["chatlab.socket"] = self.socket
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            environ["chatlab.accept_websocket"] = self.accept_websocket
        return environ

    def handle_one_request(self):  # noqa: ANN201 - pywsgi's own protocol of return values
        try:
            return super().handle_one_request()
        finally:
            self.meter.end()

    def run_application(self) -> None:
        # gevent-websocket would send the 101 before the app runs; run the app as for any
        # request instead, and let it accept the upgrade once it has checked the caller.
        WSGIHandler.run_application(self)

    def accept_websocket(self) -> tuple[bytes, socket.socket]:
        """Send the 101; from now on the app owns the connection's bytes: what pywsgi read
        past the request (a client may send frames right behind it), then the socket."""
        self.upgrade_websocket()
        if getattr(self, "websocket", None) is None:
            raise RuntimeError("the WebSocket handshake was checked but could not be completed")
        self.write(b"")
        self.upgraded = True
        self.environ["wsgi.websocket"] = None  # frames are chatlab's own, not gevent-websocket's
        early = self._buffered_input()
        self.rfile.close()  # its buffer (8 KiB) would be held for the connection's life
        return early, self.socket

    def _buffered_input(self) -> bytes:
        # read1 returns what rfile holds, or else makes one socket read; with a zero timeout
        # that read cannot wait. (A read1 that waits holds a 64 KiB buffer meanwhile: ~11 KiB
        # of resident memory for every quiet connection.)
        timeout = self.socket.gettimeout()
        self.socket.settimeout(0.0)
        try:
            return self.rfile.read1(65536)
        except OSError:
            return b""
        finally:
            self.socket.settimeout(timeout)

    def start_response(self, status: str, headers: list, exc_info: Any = None) -> Callable:
        if self.upgraded:
            return _discard  # the app's HTTP answer to an upgraded request is never sent
        return super().start_response(status, headers, exc_info)

    def process_result(self) -> None:
        if self.upgraded:
            self.close_connection = True
            return
        super().process_result()


def _discard(data: bytes) -> None:
    pass


class ChatlabServer(WSGIServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_log = kwargs.get("log", "default") is not None  # pywsgi logs by default
        # the app's limits on every request read (transports.http_reading), under
        # `chatlab serve` and gunicorn's workers alike
        config = getattr(self.application, "config", None)
        limits = RequestLimits() if config is None else RequestLimits.from_config(config)
        self.request_limits = limits

    def handle(self, sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def background_work(app: Any) -> list[gevent.Greenlet]:
    """What a serving process runs beside its requests: the housekeeping loop and, with the
    chat in Redis, the backplane's subscriber and heartbeat (transports.backplane); and, as it
    starts, the garbage collector made to run less often (lab.collector)."""
    collect_less_often()
    state, config = app.extensions["chatlab"], app.config
    keeper = gevent.spawn(
        housekeeping,
        state.chat,
        state.live,
        int(config["SEND_QUEUE"]),
        float(config["HOUSEKEEPING_INTERVAL"]),
        gevent.sleep,
    )
    return [keeper, *backplane.start(state)]


class PortBusy(Exception):
    """The address is taken; the command line says so in its own words."""


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening socket, or PortBusy."""
    from gevent import socket as gsocket

    listener = gsocket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise PortBusy(host, port) from None
        raise
    listener.listen(backlog)
    return listener


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 5000,
    access_log: bool = False,
    announce: Callable[[str], None] = print,
    listener: socket.socket | None = None,
) -> None:
    """Serve `app` until Ctrl-C or SIGTERM. Raises PortBusy if the port is taken.
    `listener`: a socket from `listen()` to serve on instead of host and port."""
    raise_file_limit()
    if listener is None:
        listener = listen(host, port)
    server = ChatlabServer(
        listener,
        app,
        handler_class=ChatlabHandler,
        log=sys.stderr if access_log else None,
    )
    server.stop_timeout = 2
    greenlets = background_work(app)
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, server.stop)
    bound_host, bound_port = listener.getsockname()[:2]
    server.start()
    announce(f"chatlab serving on http://{bound_host}:{bound_port}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    finally:
        gevent.killall(greenlets)
