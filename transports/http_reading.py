"""Reading HTTP/1.1 requests from clients that may be hostile: deadlines, size bounds, strict
framing and fair turns, around gevent pywsgi's own request parsing.

pywsgi as it comes keeps whatever a client makes it keep: a request head may take forever to
arrive (slowloris: 500 connections sending a byte every 5 s were never cut, and with 1,024
files idle half-requests locked every client out), may carry 100 header lines of 64 KiB each
(20 such connections held 95 MiB), and a keep-alive connection may idle forever. Its framing
is lenient: Content-Length beside Transfer-Encoding, two different Content-Lengths,
`Content-Length: +N` and unknown transfer codings were all accepted, so a request smuggled
behind one was served. And a connection whose client pipelined many requests is served
request after request without yielding while bytes are buffered (5,000 polls in one write
stalled every other client 1.4-2.2 s).

`GuardedReading` replaces pywsgi's `handle_one_request` with the same steps plus:
- a deadline for the first byte of a request (`KEEPALIVE_TIMEOUT` between requests,
  `REQUEST_TIMEOUT` for a connection's first) and one for the rest of it, head and body
  (`REQUEST_TIMEOUT` from its first byte): two timers per connection, restarted per request;
- at most `MAX_HEADER_BYTES` in the request line and headers together, and `MAX_HEADERS`
  header lines (431);
- RFC 9112 §6.3 framing: Content-Length with Transfer-Encoding, differing Content-Lengths,
  one that is not a plain decimal number, a transfer coding other than `chunked` (or any in
  HTTP/1.0) → 400 and the connection closed, before anything is read as a body;
- a header line that is not `name: value` as RFC 9112 §5 has it (a space before the colon, a
  folded line, a control character in a value) → 400 and the connection closed;
- a body over `MAX_CONTENT_LENGTH` → 413 and the connection closed, read no further (chunked
  bodies included); a body within it is read here, under the request's deadline, and handed
  to the app from memory;
- a turn of `FAIR_TURN` requests: after that many on one connection it waits for the next
  loop iteration, so that pipelined requests queue behind other clients' instead of ahead.

Every refusal is the protocol's error body (`{"error": code, "detail": sentence}`) with
`Connection: close`; a connection idle past its deadline is closed without a word.
The request line and the chunked decoder stay pywsgi's; the header lines are read here under
a byte budget and parsed strictly by `request_head` (pywsgi's `email.parser` stopped at a line
without a colon or with a space before it and dropped every field after it, the framing ones
included, and kept control characters in values). Measured here, best of 7: reading a 7-header
poll request took 66 µs with `email.parser` against pywsgi's own 94 µs, a POST with its 40-byte
body 41 µs against 42 µs; `request_head` takes the header part from 24.8 µs to 5.4 µs (figures
in its docstring). The deadlines add two timer starts per request (~0.6 µs each) and a fair
turn one loop iteration every fourth request (~5 µs).
"""

import socket
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import gevent
from gevent import get_hub, getcurrent
from gevent.pywsgi import MAX_REQUEST_LINE, Input, WSGIHandler

from chat_core import ErrorCode
from chat_core.message import dumps

from .memory import give_back_freed_memory
from .request_head import InvalidFieldLine, RequestHead, parse_head

MAX_HEADERS = 100  # header lines in one request, as Python's http.client allows
# Requests one connection is served in a row before it yields a loop iteration to others: a
# poll answer takes ~0.2-0.4 ms of CPU here, so a turn holds the loop ~1-2 ms.
FAIR_TURN = 4
_NEXT_ITERATION = 1e-6  # a timer, unlike sleep(0), fires only after the loop has polled for I/O
_REFUSAL_LINGER = 0.5  # seconds to read what a refused client still sends, so it sees the answer
_LINGER_BYTES = 256 * 1024
# Connections cut or refused between two trims of the heap: a crowd of them leaves freed memory
# that glibc keeps (500 slowloris connections: +5 MiB kept after they were cut, each round).
TRIM_AFTER_CUTS = 100
_TRIM_DELAY = 1.0
_REASONS = {400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
            414: "URI Too Long", 431: "Request Header Fields Too Large"}  # fmt: skip


@dataclass(frozen=True)
class RequestLimits:
    request_timeout: float = 10.0
    keepalive_timeout: float = 30.0
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_config(cls, config: Any) -> "RequestLimits":
        return cls(
            request_timeout=float(config["REQUEST_TIMEOUT"]),
            keepalive_timeout=float(config["KEEPALIVE_TIMEOUT"]),
            max_header_bytes=int(config["MAX_HEADER_BYTES"]),
            max_body_bytes=int(config["MAX_CONTENT_LENGTH"]),
        )


class Refusal(Exception):
    """A request refused before the app sees it; the connection is closed after the answer."""

    def __init__(self, status: int, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self) -> bytes:
        body = dumps({"error": str(self.code), "detail": self.detail})
        head = (
            f"HTTP/1.1 {self.status} {_REASONS[self.status]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        return head.encode("latin-1") + body


class _ClientGone(Exception):
    """The client closed the connection in the middle of a request."""


def _bad_framing(detail: str) -> Refusal:
    return Refusal(400, ErrorCode.BAD_REQUEST, detail)


def check_framing(headers: RequestHead, http_version: str) -> None:
    """RFC 9112 §6.3: refuse a message whose body length is ambiguous; normalise the one
    framing header left so that pywsgi reads exactly what was checked."""
    codings = headers.get_all("transfer-encoding")
    lengths = headers.get_all("content-length")
    if codings is not None:
        if lengths is not None:
            raise _bad_framing("A request may not carry both Content-Length and Transfer-Encoding.")
        named = [c.strip().lower() for value in codings for c in value.split(",")]
        if named != ["chunked"]:
            raise _bad_framing("The only transfer coding this server accepts is 'chunked'.")
        if http_version != "HTTP/1.1":
            raise _bad_framing("Transfer-Encoding needs HTTP/1.1.")
        del headers["transfer-encoding"]
        headers["Transfer-Encoding"] = "chunked"
    elif lengths is not None:
        values = {v.strip() for value in lengths for v in value.split(",")}
        if len(values) != 1:
            raise _bad_framing("The request carries differing Content-Length values.")
        (value,) = values
        if not (value.isascii() and value.isdigit()):
            raise _bad_framing("Content-Length must be a decimal number of bytes.")
        if len(lengths) > 1 or value != lengths[0]:
            del headers["content-length"]
            headers["Content-Length"] = value


class _Expired(BaseException):
    """A deadline of the connection passed; raised into its greenlet, which was waiting."""


class _Deadline:
    """A timer that throws `_Expired` into the connection's greenlet; kept for the
    connection's life and restarted for each request (~0.6 µs a start and stop here;
    gevent.Timeout's ~1.7 µs: it re-reads the clock and checks its arguments each time).

    Restarted with `again`, from its repeat interval: libev's plain start after a stop
    resumes with the time that was *left* (ev_timer_stop keeps the remainder), so a
    keep-alive deadline restarted per request ran out 30 s after the connection opened,
    whatever its traffic (gevent.Timeout, reused, does the same)."""

    __slots__ = ("timer", "greenlet")

    def __init__(self, seconds: float) -> None:
        self.timer = get_hub().loop.timer(0.0, seconds)
        self.greenlet = getcurrent()

    def start(self) -> None:
        # the loop's time is at most a loop iteration old: close enough for seconds
        self.timer.again(self.greenlet.throw, _Expired, update=False)

    def stop(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        self.timer.close()


class GuardedReading(WSGIHandler):
    """Mix in before pywsgi's handler (see the module's docstring)."""

    _served = 0
    _body: bytes | None = None
    _cut = False  # refused, or timed out: this connection's client was not a normal one
    _limits = RequestLimits()

    def handle(self) -> None:
        limits = self._limits = getattr(self.server, "request_limits", None) or RequestLimits()
        self._arriving = _Deadline(limits.request_timeout)  # for the rest of a request
        self._waiting = _Deadline(limits.keepalive_timeout)  # for a next request's first byte
        self._turn = get_hub().loop.timer(_NEXT_ITERATION)
        try:
            super().handle()
        finally:
            if self._cut:
                _count_a_cut()
            self._arriving.close()
            self._waiting.close()
            self._turn.close()

    def handle_one_request(self):  # noqa: ANN201 - pywsgi's own protocol of return values
        if self.rfile.closed:
            return None
        self._served += 1
        if self._served % FAIR_TURN == 0:
            get_hub().wait(self._turn)
        first_byte = self._arriving if self._served == 1 else self._waiting
        arriving = False
        try:
            first_byte.start()
            try:
                if not self.rfile.peek(1):
                    return None  # the client closed between requests
            finally:
                first_byte.stop()
            arriving = True
            self._arriving.start()
            try:
                self._read_request()
            finally:
                self._arriving.stop()
        except _Expired:
            self._cut = True
            if not arriving:
                return None  # idle: closed without a word
            # what was sent of the head has been read: no lingering needed for the answer
            late = Refusal(408, ErrorCode.BAD_REQUEST, _late(self._limits))
            return self._refuse(late, linger=False)
        except Refusal as refusal:
            return self._refuse(refusal)
        except (_ClientGone, OSError):
            return None
        except ValueError as error:  # pywsgi's own checks: request line, version, HEAD body
            detail = f"The request is not valid HTTP/1.1 ({str(error)[:80]})."
            return self._refuse(_bad_framing(detail))

        self.environ = self.get_environ()
        self.application = self.server.application
        self.handle_one_response()
        if self.close_connection or self.rfile.closed:
            return None
        return True

    def _read_request(self) -> None:
        self.requestline = None
        line = self.rfile.readline(MAX_REQUEST_LINE)
        if not line.endswith(b"\n"):
            if len(line) >= MAX_REQUEST_LINE:
                raise Refusal(414, ErrorCode.TOO_LARGE, "The request line is too long.")
            raise _ClientGone
        self.requestline = line.decode("latin-1")
        self.response_length = 0
        self._head_budget = self._limits.max_header_bytes - len(line)
        if self._head_budget < 0:
            raise self._head_too_large()
        if not self.read_request(self.requestline):
            raise _bad_framing("The request is not valid HTTP/1.1.")
        self._body = self._read_body()

    def MessageClass(self, fp: Any, *args: Any) -> RequestHead:  # noqa: N802 - pywsgi's name
        """The header lines, read under the head's byte budget, parsed strictly."""
        budget, lines = self._head_budget, []
        while True:
            line = fp.readline(budget + 1)
            budget -= len(line)
            if budget < 0 or len(lines) > MAX_HEADERS:
                raise self._head_too_large()
            if line in (b"\r\n", b"\n"):
                break
            if not line.endswith(b"\n"):
                raise _ClientGone
            lines.append(line)
        try:
            headers = parse_head(lines)
        except InvalidFieldLine as invalid:
            raise _bad_framing(str(invalid)) from None
        check_framing(headers, self.request_version)
        return headers

    def _head_too_large(self) -> Refusal:
        limit = self._limits.max_header_bytes
        return Refusal(
            431,
            ErrorCode.TOO_LARGE,
            f"The request's head is over {limit} bytes or {MAX_HEADERS} header lines.",
        )

    def _read_body(self) -> bytes | None:
        chunked = self.headers.get("transfer-encoding") == "chunked"
        if not (self.content_length or chunked) or self._connection_upgrade_requested():
            return None
        limit = self._limits.max_body_bytes
        if self.content_length is not None and self.content_length > limit:
            raise _body_too_large(limit)
        expects = self.headers.get("expect", "").lower() == "100-continue"
        arriving = Input(self.rfile, self.content_length, self.socket if expects else None, chunked)
        try:
            body = arriving.read(limit + 1) if chunked else arriving.read()
        except OSError as error:  # pywsgi's errors in chunk framing are IOErrors
            raise _bad_framing(f"The chunked body is malformed ({error}).") from None
        if chunked and len(body) > limit:
            raise _body_too_large(limit)
        if not chunked and len(body) < self.content_length:
            raise _ClientGone
        return body

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        body, self._body = self._body, None
        if body is not None:
            self.wsgi_input = Input(BytesIO(body), len(body))
            environ["wsgi.input"] = self.wsgi_input
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return environ

    def _refuse(self, refusal: Refusal, linger: bool = True) -> None:
        """Answer, stop writing, and read what the client still sends for a moment (so that
        its kernel does not see a reset before our answer), within bounds; then close."""
        self.close_connection = self._cut = True
        if not linger:
            self.socket.settimeout(0.0)  # one try: if it does not fit, no answer
            try:
                self.socket.send(refusal.response())
            except OSError:
                pass
            return None
        linger = gevent.Timeout(_REFUSAL_LINGER)
        try:
            with linger:
                self.socket.sendall(refusal.response())
                self.socket.shutdown(socket.SHUT_WR)
                drained = 0
                while drained < _LINGER_BYTES:
                    data = self.socket.recv(65536)
                    if not data:
                        break
                    drained += len(data)
        except OSError:
            pass
        except gevent.Timeout as timeout:
            if timeout is not linger:
                raise
            linger.__traceback__ = None
        return None


_cuts_since_trim = 0
_trim_pending = False


def _count_a_cut() -> None:
    """A trim a moment after the hundredth cut connection, once that crowd's handlers and
    buffers are gone too; at most one pending at a time."""
    global _cuts_since_trim, _trim_pending
    _cuts_since_trim += 1
    if _cuts_since_trim >= TRIM_AFTER_CUTS and not _trim_pending:
        _trim_pending = True
        gevent.spawn_later(_TRIM_DELAY, _trim)


def _trim() -> None:
    global _cuts_since_trim, _trim_pending
    _cuts_since_trim, _trim_pending = 0, False
    give_back_freed_memory()


def _body_too_large(limit: int) -> Refusal:
    return Refusal(413, ErrorCode.TOO_LARGE, f"The request body is over {limit} bytes.")


def _late(limits: RequestLimits) -> str:
    return f"The request did not arrive in full within {limits.request_timeout:g} seconds."
