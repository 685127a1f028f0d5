"""chatlab's gunicorn worker: gunicorn's gevent pywsgi worker serving with chatlab's own
server and handler (transports/server.py), so that under gunicorn every accepted socket
still gets TCP_NODELAY, bytes are still metered per transport, WebSockets are still upgraded
only after the app has checked the caller, and each worker runs the housekeeping loop and,
with REDIS_URL set, the backplane's subscriber and heartbeat (transports/backplane.py).

    CHATLAB_REDIS_URL=redis://127.0.0.1:6379/0 gunicorn \\
        -k transports.gunicorn_worker.ChatlabWorker -w 4 --worker-connections 10000 \\
        -b 127.0.0.1:5000 'transports:create_app()'

Workers share nothing but Redis: without REDIS_URL each worker is a chat of its own. gunicorn
patches the standard library for gevent in each worker before the app is loaded, so redis-py's
sockets are gevent's there too. (geventwebsocket.gunicorn.workers.GeventWebSocketWorker does
the same with gevent-websocket's handler: chatlab's handler subclasses it.)
"""

from typing import Any

from gunicorn.workers.ggevent import GeventPyWSGIWorker


class ChatlabWorker(GeventPyWSGIWorker):
    def run(self) -> None:
        # imported here, in the worker, once gunicorn has patched the standard library
        import gevent

        from lab.process_usage import raise_file_limit

        from .server import ChatlabHandler, ChatlabServer, background_work

        class Server(ChatlabServer):
            def __init__(self, *args: Any, log: Any = None, **kwargs: Any) -> None:
                # gunicorn's logger is not a stream pywsgi can write to; chatlab logs no
                # access lines unless asked (chatlab serve --access-log)
                super().__init__(*args, log=None, **kwargs)

        self.server_class = Server
        self.wsgi_handler = ChatlabHandler
        raise_file_limit()
        greenlets = background_work(self.wsgi)
        try:
            super().run()
        finally:
            gevent.killall(greenlets)
