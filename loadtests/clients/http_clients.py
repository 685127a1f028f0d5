"""The three HTTP transports: short polling, long polling and Server-Sent Events.

Each user holds two keep-alive channels, as a browser tab does: one for API calls (login,
join, sends; up to `SENDS_IN_FLIGHT` connections when a burst keeps several sends in flight)
and one for receiving. With `new_connection_per_request` the receiving channel opens a new TCP
connection for every request and closes it once the answer is read, as HTTP/1.0 polling did:
over an emulated link each such request pays the handshake's round trip. geventhttpclient is
used because it sends exactly the headers it is given (the header profiles are part of what
is measured) and costs the load generator little CPU per request.
"""

import json
import random
import socket
import time
from typing import Any, ClassVar

import gevent
from geventhttpclient import HTTPClient
from geventhttpclient.url import URL

from chat_core import Transport
from wire import sse

from .base import (
    SENDS_IN_FLIGHT,
    ChatClient,
    ClientSettings,
    Fire,
    Inbox,
    SendFailed,
    SetupFailed,
)
from .connection_hook import on_connect
from .headers import http_headers


class HttpError(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}: {body[:200].decode(errors='replace')}")
        self.status = status


class HttpChannel:
    """Keep-alive HTTP/1.1 connections to one server (`concurrency` of them at most); every
    request is reported to Locust. With `fresh`, each request's connection is closed once its
    answer is read, so the next request opens a new one."""

    def __init__(self, base_url: str, fire: Fire, network_timeout: float, concurrency: int = 1,
                 fresh: bool = False) -> None:  # fmt: skip
        url = URL(base_url)
        self.fire = fire
        self.fresh = fresh
        self.client = HTTPClient(url.host, url.port, concurrency=concurrency,
                                 connection_timeout=10,
                                 network_timeout=network_timeout)  # fmt: skip
        del self.client.default_headers["User-Agent"]  # the profile decides every header
        self.sock: socket.socket | None = None
        self.cuts = 0  # how often the connection was cut on purpose (such failures go unreported)
        self.closed = False
        on_connect(self.client, self._connected)

    def _connected(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as browsers do
        self.sock = sock  # the connection in use (one at a time), so that it can be cut

    def request(self, method: str, path: str, name: str, headers: dict[str, str],
                body: bytes = b"") -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        """Status, response headers (lower-case names) and body; HttpError unless 2xx."""
        started, cuts = time.perf_counter(), self.cuts
        try:
            response = self.client.request(method, path, body=body, headers=headers)
            data = response.read()
        except Exception as error:
            self._failed(method, name, started, cuts, error)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        self.request_done()
        status = response.status_code
        if not 200 <= status < 300:
            failure = HttpError(status, data)
            self.fire(method, name, elapsed, len(data), failure)
            raise failure
        self.fire(method, name, elapsed, len(data), None)
        return status, {k.lower(): v for k, v in response.items()}, data

    def stream(self, path: str, name: str, headers: dict[str, str]) -> Any:
        """Open a streaming GET; the response, read line by line by the caller."""
        started, cuts = time.perf_counter(), self.cuts
        try:
            response = self.client.request("GET", path, headers=headers)
        except Exception as error:
            self._failed("GET", name, started, cuts, error)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            failure = HttpError(response.status_code, response.read())
            self.fire("GET", name, elapsed, 0, failure)
            raise failure
        self.fire("GET", name, elapsed, 0, None)
        return response

    def request_done(self) -> None:
        """A request's answer is read: with `fresh`, close its connection (the pool drops a
        closed socket and connects anew for the next request)."""
        if self.fresh and self.sock is not None:
            self.sock.close()
            self.sock = None

    def _failed(self, method: str, name: str, started: float, cuts: int,
                error: Exception) -> None:  # fmt: skip
        if self.cuts != cuts or self.closed:
            return  # we cut or closed the connection ourselves: not the server's failure
        self.fire(method, name, (time.perf_counter() - started) * 1000, 0, error)

    def cut(self) -> None:
        self.cuts += 1
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.closed = True
        self.cut()
        self.client.close()


def login_over_http(
    api: HttpChannel, name: str, transport: str, origin: str, profile: str
) -> tuple[str | None, str | None, int]:
    """`POST /api/session`: the token (None for a browser, which uses the cookie), the
    cookie (browser profile only) and the cursor to receive from."""
    body = json.dumps({"name": name}).encode()
    headers = http_headers(profile, transport, origin, "POST")
    try:
        _, answer_headers, data = api.request("POST", "/api/session", f"{transport} /api/session",
                                              headers, body)  # fmt: skip
    except Exception as error:
        raise SetupFailed(f"login failed: {error}") from error
    answer = json.loads(data)
    if profile == "browser":
        cookie = answer_headers.get("set-cookie", "").split(";", 1)[0] or None
        return None, cookie, int(answer["cursor"])
    return answer["token"], None, int(answer["cursor"])


class HttpChatClient(ChatClient):
    """Login, join and send over HTTP; the subclasses differ in how they receive."""

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        super().__init__(name, settings, fire, inbox)
        self.origin = settings.base_url.rstrip("/")
        self.api = HttpChannel(self.origin, fire, settings.request_timeout, SENDS_IN_FLIGHT)
        self.receiving = HttpChannel(self.origin, fire, self._receive_timeout(),
                                     fresh=settings.new_connection_per_request)  # fmt: skip
        self._sends = 0

    def _receive_timeout(self) -> float:
        return self.settings.request_timeout

    def headers(self, method: str = "GET", accept: str = "*/*") -> dict[str, str]:
        return http_headers(self.settings.header_profile, self.transport, self.origin, method,
                            token=self.token, cookie=self.cookie, accept=accept)  # fmt: skip

    def login(self) -> None:
        self.token, self.cookie, self.cursor = login_over_http(
            self.api, self.name, self.transport, self.origin, self.settings.header_profile
        )

    def join(self, room: str) -> None:
        try:
            self.api.request("POST", f"/api/rooms/{room}/join", f"{self.transport} /api/rooms/join",
                             self.headers("POST"))  # fmt: skip
        except Exception as error:
            raise SetupFailed(f"join failed: {error}") from error

    def send(self, text: str, cid: str, ts: float, room: str | None = None,
             to: str | None = None) -> int:  # fmt: skip
        payload: dict[str, Any] = {"room": room} if room is not None else {"to": to}
        payload.update(text=text, cid=cid, ts=ts)
        body = json.dumps(payload, separators=(",", ":")).encode()
        name = f"{self.transport} /api/messages"
        # One retry on a broken connection: the cid makes a repeated send harmless.
        for attempt in (1, 2):
            try:
                _, _, data = self.api.request("POST", "/api/messages", name,
                                              self.headers("POST"), body)  # fmt: skip
                return int(json.loads(data)["id"])
            except HttpError as error:
                raise SendFailed(str(error)) from error
            except Exception as error:
                if attempt == 2 or self._closing:
                    raise SendFailed(str(error)) from error
        raise AssertionError("unreachable")

    def release_api(self) -> None:
        self.api.close()

    def _cut(self) -> None:
        self.receiving.cut()

    def close(self) -> None:
        super().close()
        self.api.close()
        self.receiving.close()

    def _take_poll(self, data: bytes, arrival: float) -> None:
        answer = json.loads(data)
        if answer.get("gap"):
            self.inbox.gap()
        for message in answer["messages"]:
            self.deliver(message, arrival, _json_size(message))
        self.cursor = max(self.cursor, int(answer["cursor"]))


def _json_size(message: dict[str, Any]) -> int:
    """The message's size as the server encodes it (compact UTF-8 JSON, keys in order)."""
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


class ShortPollClient(HttpChatClient):
    transport: ClassVar[str] = Transport.SHORT_POLL

    def _receive(self) -> None:
        interval = self.settings.poll_interval
        name = f"{self.transport} /api/poll"
        next_poll = time.monotonic() + interval * random.random()  # polls spread evenly
        while not self._closing:
            gevent.sleep(max(0.0, next_poll - time.monotonic()))
            # a fixed rate, as setInterval keeps it; a poll that overran is not made up for
            next_poll = max(next_poll + interval, time.monotonic())
            _, _, data = self.receiving.request("GET", f"/api/poll?since={self.cursor}", name,
                                                self.headers())  # fmt: skip
            self.connection_healthy()
            self._take_poll(data, time.time())


class LongPollClient(HttpChatClient):
    transport: ClassVar[str] = Transport.LONG_POLL

    def _receive_timeout(self) -> float:
        return self.settings.long_poll_timeout + self.settings.request_timeout

    def _receive(self) -> None:
        name = f"{self.transport} /api/longpoll"
        timeout = f"{self.settings.long_poll_timeout:g}"
        while not self._closing:
            path = f"/api/longpoll?since={self.cursor}&timeout={timeout}"
            _, _, data = self.receiving.request("GET", path, name, self.headers())
            self.connection_healthy()
            self._take_poll(data, time.time())


class SseClient(HttpChatClient):
    transport: ClassVar[str] = Transport.SSE

    def __init__(self, name: str, settings: ClientSettings, fire: Fire, inbox: Inbox) -> None:
        super().__init__(name, settings, fire, inbox)
        self._first_since: int | None = None

    def _receive(self) -> None:
        # As EventSource does: the same URL every time, Last-Event-ID when resuming.
        if self._first_since is None:
            self._first_since = self.cursor
        headers = self.headers(accept="text/event-stream")
        if self.cursor != self._first_since:
            headers["Last-Event-ID"] = str(self.cursor)
        response = self.receiving.stream(f"/api/stream?since={self._first_since}",
                                         f"{self.transport} /api/stream", headers)  # fmt: skip
        self.connection_healthy()
        try:
            self._read_events(response)
        finally:
            response.release()
            self.receiving.request_done()

    def _read_events(self, response: Any) -> None:
        events = sse.EventParser()
        while not self._closing:
            line = response.readline(b"\n")
            if not line:
                return  # the server ended the stream
            event = events.feed_line(line.rstrip(b"\r\n"))
            if event is None:
                continue
            if event.type == "message":
                self.deliver(json.loads(event.data), time.time(), len(event.data))
            elif event.type == "gap":
                self.inbox.gap()
