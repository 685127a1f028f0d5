"""A real exchange per transport, byte for byte, for the classroom notebook.

Two users, alice and bob, join one room on a live chatlab server. For each transport alice
receives one message from bob, and every byte that crosses alice's socket is kept: request
lines, headers, bodies, chunk framing, the WebSocket handshake and frames. Each part knows
how many of its bytes were the chat message itself, so a student can count the rest.
"""

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from chat_core.message import dumps
from lab.server_metrics import read_metrics
from wire.sse import EventParser
from wire.websocket import CloseCode, Opcode, close_payload

from .raw_wire import Frame, HttpAnswer, RawConnection, wait_for

TO_SERVER, TO_CLIENT = "client → server", "server → client"
ROOM = "wire"
# The RFC 6455 sample key: its accept value is printed in the RFC, so students can check it.
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@dataclass(frozen=True, slots=True)
class Part:
    label: str
    direction: str
    data: bytes
    head_bytes: int  # HTTP request/status line and headers, or the frame header
    message_bytes: int = 0  # bytes that were a chat message's own JSON
    delivers: bool = False  # one of the parts that bring bob's message to alice
    note: str = ""
    unmasked: bytes = b""  # a client frame's payload as the server reads it

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def overhead_bytes(self) -> int:
        return self.size - self.message_bytes


@dataclass
class Exchange:
    transport: str
    parts: list[Part] = field(default_factory=list)

    def delivery_bytes(self) -> tuple[int, int]:
        """(bytes on the wire, of which the message) of the parts that delivered it."""
        parts = [p for p in self.parts if p.delivers]
        return sum(p.size for p in parts), sum(p.message_bytes for p in parts)


class Client:
    """A logged-in user talking HTTP over its own raw connection."""

    def __init__(self, base_url: str, name: str) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.conn = RawConnection(self.host, self.port)
        answer = self.call("POST", "/api/session", {"name": name}, auth=False)
        body = json.loads(answer.body)
        self.name, self.token, self.cursor = body["name"], body["token"], body["cursor"]

    def headers(self, auth: bool = True, json_body: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    def request(self, method: str, path: str, body: object = None, auth: bool = True,
                conn: RawConnection | None = None) -> bytes:  # fmt: skip
        """Send a request on `conn` (this client's own by default); returns its bytes."""
        data = dumps(body) if body is not None else b""
        headers = self.headers(auth, json_body=body is not None)
        return (conn or self.conn).request(method, path, headers, data)

    def call(self, method: str, path: str, body: object = None, auth: bool = True) -> HttpAnswer:
        self.request(method, path, body, auth)
        return self.conn.read_answer()

    def close(self) -> None:
        self.conn.close()


def _message_bytes(data: bytes, messages: list[dict]) -> int:
    """How many bytes of `data` are the messages' JSON (as the server encodes it)."""
    return sum(len(encoded) for m in messages if (encoded := dumps(m)) in data)


def _request_part(label: str, data: bytes, delivers: bool = False, note: str = "") -> Part:
    head = data.index(b"\r\n\r\n") + 4
    return Part(label, TO_SERVER, data, head, 0, delivers, note)


def _answer_part(label: str, answer: HttpAnswer, delivers: bool = False, note: str = "") -> Part:
    messages = json.loads(answer.body).get("messages", []) if answer.body else []
    found = _message_bytes(answer.raw, messages)
    return Part(label, TO_CLIENT, answer.raw, len(answer.head), found, delivers, note)


def _bob_says(bob: Client, text: str) -> None:
    answer = bob.call("POST", "/api/messages", {"room": ROOM, "text": text})
    if answer.status not in (200, 201):
        raise RuntimeError(f"bob could not send: {answer.status} {answer.body!r}")


def capture_short_poll(alice: Client, bob: Client) -> Exchange:
    ex = Exchange("short_poll")
    path = f"/api/poll?since={alice.cursor}"
    request = alice.request("GET", path)
    empty = alice.conn.read_answer()
    ex.parts += [
        _request_part("poll", request, note="nothing is waiting yet"),
        _answer_part("empty answer", empty, note="the classic wasted poll: all overhead"),
    ]
    _bob_says(bob, "hello from bob (short polling)")
    request = alice.request("GET", path)
    full = alice.conn.read_answer()
    ex.parts += [
        _request_part("next poll", request, delivers=True),
        _answer_part("answer with bob's message", full, delivers=True),
    ]
    alice.cursor = json.loads(full.body)["cursor"]
    return ex


def _long_polls_open(base_url: str) -> int:
    return int(read_metrics(base_url)["transports"]["long_poll"]["open"])


def capture_long_poll(alice: Client, bob: Client, base_url: str) -> Exchange:
    ex = Exchange("long_poll")
    before = _long_polls_open(base_url)
    request = alice.request("GET", f"/api/longpoll?since={alice.cursor}&timeout=20")
    # bob speaks only once the server holds alice's request, so the answer shows a real wait
    wait_for(lambda: _long_polls_open(base_url) > before, 10, "the long poll to be parked")
    _bob_says(bob, "hello from bob (long polling)")
    answer = alice.conn.read_answer()
    ex.parts += [
        _request_part("long poll", request, delivers=True, note="the server holds it open"),
        _answer_part(
            "answer once bob spoke",
            answer,
            delivers=True,
            note="the request is over: the client must ask again",
        ),
    ]
    alice.cursor = json.loads(answer.body)["cursor"]
    request = alice.request("GET", f"/api/longpoll?since={alice.cursor}&timeout=1")
    ex.parts += [
        _request_part("next long poll (timeout=1)", request),
        _answer_part(
            "empty answer at the timeout",
            alice.conn.read_answer(),
            note="nobody spoke: an empty answer, and the client asks again",
        ),
    ]
    return ex


def capture_sse(alice: Client, bob: Client) -> Exchange:
    ex = Exchange("sse")
    conn = RawConnection(alice.host, alice.port)
    try:
        request = alice.request("GET", f"/api/stream?since={alice.cursor}", conn=conn)
        head, _status, _headers = conn.read_head()
        opening, _ = conn.read_chunk()
        ex.parts += [
            _request_part("open the stream", request, note="sent once"),
            Part("stream headers", TO_CLIENT, head, len(head), note="sent once"),
            Part(
                "opening chunk",
                TO_CLIENT,
                opening,
                len(opening),
                note="`retry:` tells the browser how soon to reconnect",
            ),
        ]
        _bob_says(bob, "hello from bob (SSE)")
        raw, data = conn.read_chunk()
        (event,) = EventParser().feed(data)
        message = json.loads(event.data)
        ex.parts.append(
            Part(
                "event with bob's message",
                TO_CLIENT,
                raw,
                raw.index(b"\r\n") + 2,  # the chunk's size line
                _message_bytes(raw, [message]),
                delivers=True,
                note="chunk size line, `id:`, `event:`, `data:` around the JSON",
            )
        )
        alice.cursor = message["id"]
    finally:
        conn.close()
    return ex


def _frame_part(
    label: str, direction: str, frame: Frame, delivers: bool = False, note: str = ""
) -> Part:
    message_bytes = 0
    if frame.opcode == Opcode.TEXT:
        body = json.loads(frame.payload)
        if body.get("type") == "message":
            message_bytes = _message_bytes(frame.payload, [body["message"]])
    return Part(label, direction, frame.raw, frame.header_len, message_bytes, delivers, note)


def capture_websocket(alice: Client, bob: Client) -> Exchange:
    ex = Exchange("websocket")
    conn = RawConnection(alice.host, alice.port)
    try:
        headers = {
            **alice.headers(),
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": WS_KEY,
            "Sec-WebSocket-Version": "13",
        }
        request = conn.request("GET", f"/ws?since={alice.cursor}", headers)
        head, status, answer_headers = conn.read_head()
        if status != 101 or answer_headers.get("sec-websocket-accept") != WS_ACCEPT:
            raise RuntimeError(f"the WebSocket handshake failed: {head!r}")
        endpoint = conn.open_websocket()
        ex.parts += [
            _request_part("handshake: upgrade request", request, note="sent once"),
            Part(
                "handshake: 101 Switching Protocols",
                TO_CLIENT,
                head,
                len(head),
                note=f"Sec-WebSocket-Accept {WS_ACCEPT}, as RFC 6455 prints it",
            ),
        ]
        _bob_says(bob, "hello from bob (WebSocket)")
        frame = conn.read_frame()
        ex.parts.append(
            _frame_part(
                "frame with bob's message",
                TO_CLIENT,
                frame,
                delivers=True,
                note="frame header, then the envelope around the JSON",
            )
        )
        alice.cursor = json.loads(frame.payload)["message"]["id"]
        send = dumps({"type": "send", "room": ROOM, "text": "hi bob", "cid": secrets.token_hex(4)})
        sent = endpoint.send_text(send)
        conn.send(sent)
        ex.parts.append(
            Part(
                "alice sends a frame",
                TO_SERVER,
                sent,
                len(sent) - len(send),
                note="client frames are masked: 4 more header bytes, payload XORed",
                unmasked=send,
            )
        )
        for _ in range(2):  # the ack, and alice's own message coming back from the room
            frame = conn.read_frame()
            kind = json.loads(frame.payload).get("type")
            ex.parts.append(_frame_part(f"frame: {kind}", TO_CLIENT, frame))
        code = close_payload(CloseCode.NORMAL)
        conn.send(closing := endpoint.close(CloseCode.NORMAL))
        ex.parts.append(
            Part("close frame (1000)", TO_SERVER, closing, len(closing) - 2, unmasked=code)
        )
        ex.parts.append(_frame_part("close frame back", TO_CLIENT, conn.read_frame()))
    finally:
        conn.close()
    return ex


def capture_all(base_url: str) -> dict[str, Exchange]:
    """One exchange per transport against the server at `base_url`."""
    suffix = secrets.token_hex(3)
    alice = Client(base_url, f"alice-{suffix}")
    bob = Client(base_url, f"bob-{suffix}")
    try:
        for user in (alice, bob):
            user.call("POST", f"/api/rooms/{ROOM}/join")
        exchanges = [
            capture_short_poll(alice, bob),
            capture_long_poll(alice, bob, base_url),
            capture_sse(alice, bob),
            capture_websocket(alice, bob),
        ]
    finally:
        for user in (alice, bob):
            user.close()
    return {ex.transport: ex for ex in exchanges}


def render(exchange: Exchange) -> Iterator[str]:
    """The exchange as text: each part's bytes, then what they were made of."""
    for part in exchange.parts:
        yield f"── {part.direction}: {part.label} ({part.size} bytes) " + "─" * 10
        if part.note:
            yield f"   ({part.note})"
        yield _printable(part)
        yield (
            f"   = {part.head_bytes} header bytes, {part.message_bytes} bytes of message JSON, "
            f"{part.overhead_bytes} bytes of overhead in all"
        )


def _printable(part: Part) -> str:
    if part.data[:1].isalnum():  # HTTP text, or an SSE chunk's size line
        return part.data.decode("utf-8", errors="replace")
    header = part.data[: part.head_bytes].hex(" ")
    body = part.unmasked or part.data[part.head_bytes :]
    masked = " (unmasked here; masked on the wire)" if part.unmasked else ""
    if part.data[0] & 0x0F == Opcode.TEXT:
        return f"[frame header {header}] {body.decode('utf-8', errors='replace')}{masked}"
    return f"[frame header {header}] payload {body.hex(' ')}{masked}"
