"""Plain protocol clients for tests: HTTP with requests, WebSocket with websocket-client.

Each receiver has the same shape (`receive(count, timeout)` returning messages, and
`cursor`), so one contract test runs unchanged over all four transports.
"""

import itertools
import json
import os
import time
from typing import Any

import requests
import websocket

from chat_core import Transport
from wire import sse

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test in this run uses (servers outlive single tests)."""
    return f"{prefix}{os.getpid() % 1000}x{next(_names)}"


def until(condition: Any, timeout: float = 20.0, what: str = "the condition") -> Any:
    """Poll `condition` until it returns something true; that value (AssertionError naming
    `what` once `timeout` seconds have passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} never held within {timeout} s")


class Api:
    """A logged-in user's HTTP calls."""

    def __init__(self, base: str, name: str) -> None:
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(f"{base}/api/session", json={"name": name}, timeout=10)
        answer.raise_for_status()
        body = answer.json()
        self.name, self.token, self.cursor = body["name"], body["token"], body["cursor"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.http.post(f"{self.base}{path}", json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 70)
        return self.http.get(f"{self.base}{path}", **kwargs)

    def join(self, room: str) -> dict[str, Any]:
        answer = self.post(f"/api/rooms/{room}/join")
        answer.raise_for_status()
        return answer.json()

    def send(self, **message: Any) -> requests.Response:
        return self.post("/api/messages", message)

    def send_json(self, body: Any, **kwargs: Any) -> requests.Response:
        return self.post("/api/messages", body, **kwargs)

    def say(self, **message: Any) -> int:
        answer = self.send(**message)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()["id"]

    def close(self) -> None:
        self.http.close()


class AppUser:
    """A logged-in user's calls through Flask's test client: the app in this process, no
    socket. Same calls as `Api`, answered with Werkzeug's test responses (`.get_json()`);
    `params` is the query string, as in requests."""

    def __init__(self, app: Any, name: str) -> None:
        self.http = app.test_client()  # keeps the login cookie, as a requests.Session does
        answer = self.http.post("/api/session", json={"name": name})
        assert answer.status_code == 201, answer.text
        body = answer.get_json()
        self.name, self.token, self.cursor = body["name"], body["token"], body["cursor"]

    def _call(self, method: str, path: str, kwargs: dict[str, Any]) -> Any:
        kwargs["headers"] = {"Authorization": f"Bearer {self.token}", **kwargs.get("headers", {})}
        if "params" in kwargs:
            kwargs["query_string"] = kwargs.pop("params")
        return self.http.open(path, method=method, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        if "data" not in kwargs:
            kwargs["json"] = body
        return self._call("POST", path, kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._call("GET", path, kwargs)

    def join(self, room: str) -> dict[str, Any]:
        answer = self.post(f"/api/rooms/{room}/join")
        assert answer.status_code == 200, answer.text
        return answer.get_json()

    def send(self, **message: Any) -> Any:
        return self.post("/api/messages", message)

    def send_json(self, body: Any, **kwargs: Any) -> Any:
        return self.post("/api/messages", body, **kwargs)

    def say(self, **message: Any) -> int:
        answer = self.send(**message)
        assert answer.status_code in (200, 201), answer.text
        return answer.get_json()["id"]


class Receiver:
    """Receives one user's stream over one transport, from a cursor."""

    def __init__(self, api: Api, since: int) -> None:
        self.api = api
        self.cursor = since
        self.gaps: list[int] = []

    def receive(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class ShortPollReceiver(Receiver):
    def receive(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            body = self.api.get("/api/poll", params={"since": self.cursor}).json()
            self._take(body, got)
            if len(got) < count:
                time.sleep(0.05)
        return got

    def _take(self, body: dict[str, Any], got: list[dict[str, Any]]) -> None:
        if body.get("gap"):
            self.gaps.append(body["oldest"])
        got.extend(body["messages"])
        self.cursor = body["cursor"]


class LongPollReceiver(ShortPollReceiver):
    def receive(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and (left := deadline - time.monotonic()) > 0:
            params = {"since": self.cursor, "timeout": max(0.1, min(left, 5))}
            self._take(self.api.get("/api/longpoll", params=params).json(), got)
        return got


class SseReceiver(Receiver):
    """Like a browser's EventSource: when the server ends the stream, reconnect from the
    last id seen."""

    def __init__(self, api: Api, since: int | None) -> None:
        super().__init__(api, since)
        self.reconnects = 0
        self._open(since)

    def _open(self, since: int | None) -> None:
        params = {} if since is None else {"since": since}
        self._response = self.api.get("/api/stream", params=params, stream=True)
        self._response.raise_for_status()
        # chunk_size=None: hand over each chunk as it arrives instead of waiting to fill a buffer
        self._lines = self._response.iter_lines(chunk_size=None)
        self._events = sse.EventParser()  # a new connection starts with no half-read event

    def receive(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            line = next(self._lines, None)
            if line is None:
                self._response.close()
                self.reconnects += 1
                self._open(self.cursor)
                continue
            event = self._events.feed_line(line)
            if event is None:
                continue
            if event.type == "message":
                message = json.loads(event.data)
                got.append(message)
                self.cursor = message["id"]
            elif event.type == "gap":
                self.gaps.append(json.loads(event.data)["oldest"])
        return got

    def close(self) -> None:
        self._response.close()


class WebSocketReceiver(Receiver):
    """Reconnects from its cursor when the server closes the connection (e.g. 1013, too
    slow) or cuts it, as the protocol asks of every client."""

    def __init__(self, api: Api, since: int | None) -> None:
        super().__init__(api, since)
        self.frames: list[dict[str, Any]] = []  # everything that was not a message
        self.close_codes: list[int] = []
        self.drops = 0
        self._open(since)

    def _open(self, since: int | None) -> None:
        url = "ws" + self.api.base.removeprefix("http") + "/ws"
        if since is not None:
            url += f"?since={since}"
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: Bearer {self.api.token}"], timeout=10
        )

    def _read_one(self, timeout: float) -> dict[str, Any] | None:
        """Take in one frame: a message is returned, anything else is filed; None if none came."""
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            self.drops += 1  # cut off without a close frame: resume all the same
            self.close()
            self._open(self.cursor)
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.close_codes.append(int.from_bytes(data[:2], "big"))
            self.close()
            self._open(self.cursor)
            return None
        frame = json.loads(data)
        if frame["type"] == "message":
            self.cursor = frame["message"]["id"]
            return frame["message"]
        if frame["type"] == "gap":
            self.gaps.append(frame["oldest"])
        else:
            self.frames.append(frame)
        return None

    def receive(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and (left := deadline - time.monotonic()) > 0:
            if (message := self._read_one(left)) is not None:
                got.append(message)
        return got

    def receive_until_frames(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Read until `count` non-message frames (acks, "left"...) have come in all; returns
        the messages read meanwhile."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(self.frames) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"fewer than {count} frames within {timeout} s: {self.frames}"
            if (message := self._read_one(left)) is not None:
                got.append(message)
        return got

    def send_frame(self, **frame: Any) -> None:
        self.ws.send(json.dumps(frame))

    def close(self) -> None:
        self.ws.close()
        self.ws.shutdown()  # close() skips the socket when the server closed first


RECEIVERS: dict[Transport, type[Receiver]] = {
    Transport.SHORT_POLL: ShortPollReceiver,
    Transport.LONG_POLL: LongPollReceiver,
    Transport.SSE: SseReceiver,
    Transport.WEBSOCKET: WebSocketReceiver,
}
