"""`chatlab serve --workers N --redis URL`: N gunicorn workers of chatlab's own class
(transports.gunicorn_worker) on one listening socket, sharing the chat through Redis.

This process is gunicorn's arbiter: it binds the port itself (so that `--port 0` can be
announced before any worker starts), hands the socket to gunicorn as `fd://N`, and imports
neither Flask nor gevent: each worker loads the app after gunicorn has patched it for gevent.
"""

import socket
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

WORKER_CLASS = "transports.gunicorn_worker.ChatlabWorker"
WORKER_CONNECTIONS = 100_000  # gunicorn's default, 1,000, would cap the sweep's connections
GRACEFUL_TIMEOUT = 3  # seconds a stopping worker waits for open streams (they reconnect)


class _Workers(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from transports import create_app

        return create_app()


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(backlog)
    listener.set_inheritable(True)
    return listener


def serve_workers(listener: socket.socket, workers: int, access_log: bool,
                  announce: Callable[[str], None]) -> None:  # fmt: skip
    """Run `workers` workers on `listener` until SIGINT or SIGTERM."""
    host, port = listener.getsockname()[:2]
    options: dict[str, Any] = {
        "bind": [f"fd://{listener.fileno()}"],
        "workers": workers,
        "worker_class": WORKER_CLASS,
        "worker_connections": WORKER_CONNECTIONS,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "control_socket_disable": True,
        "loglevel": "warning",
        "accesslog": "-" if access_log else None,
        "when_ready": lambda arbiter: announce(
            f"chatlab serving on http://{host}:{port}/ with {workers} workers  (Ctrl-C to stop)"
        ),
    }
    _Workers(options).run()
