"""A response's first write in one sendall: the one place chatlab reaches into gevent's pywsgi.

pywsgi sends the status line and headers with one sendall and the first body bytes with a
second: with TCP_NODELAY that is two segments and two syscalls for every poll answer (measured
on loopback, keep-alive GETs of a 200-byte answer: 2.01 segments per answer, 1.00 with this).
It has no public way to join them, so `OneWriteHandler` overrides its private
`_write_with_headers` and sends the same bytes at once. tests/test_library_reaches.py checks,
for the gevent installed, that the bytes are still exactly pywsgi's and that the override is
still called; the import below fails at start-up if the method is gone.
"""

from gevent.pywsgi import WSGIHandler

if not callable(getattr(WSGIHandler, "_write_with_headers", None)):
    raise ImportError(
        "gevent.pywsgi.WSGIHandler has no _write_with_headers any more: this gevent is outside "
        "the range chatlab is tested with (see pyproject.toml)"
    )


class OneWriteHandler(WSGIHandler):
    def _write_with_headers(self, data: bytes) -> None:
        self.headers_sent = True
        self.finalize_headers()
        towrite = bytearray(b"HTTP/1.1 ")
        towrite += self.status
        towrite += b"\r\n"
        for header, value in self.response_headers:
            towrite += header
            towrite += b": "
            towrite += value
            towrite += b"\r\n"
        towrite += b"\r\n"
        if data:
            if self.response_use_chunked:
                towrite += b"%x\r\n" % len(data)
                towrite += data
                towrite += b"\r\n"
            else:
                towrite += data
        self._sendall(towrite)
