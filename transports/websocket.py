"""WebSocket: `GET /ws?since=N`, JSON text frames both ways, one writer per connection.

gevent-websocket does the handshake; every frame goes through the codec of
`wire.websocket`. The view's own greenlet reads: it feeds each read to the connection's
endpoint and handles the events that come out. A second greenlet is the only one that ever
writes to the socket. Replies (acks, errors, joined, pongs) go through the writer's queue, so
frames can never interleave, and a client that stops reading blocks nobody but its writer.

`GET /ws/echo` (off unless the WS_ECHO setting is on) sends every message back as it came,
for conformance suites: the same handshake checks, codec and limits.
"""

import base64
import binascii
import json
import logging
import socket
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import gevent.event
from flask import Blueprint, Response, current_app, g, request

from chat_core import ChatError, ErrorCode, Message, Session, Transport
from chat_core.message import dumps
from wire.websocket import (
    BinaryMessage,
    Close,
    CloseCode,
    Endpoint,
    Event,
    Opcode,
    Ping,
    Role,
    TextMessage,
    Violation,
    frame,
)

from .auth import streaming
from .outbox import Outbox
from .state import ServerState, state

bp = Blueprint(Transport.WEBSOCKET, __name__)
log = logging.getLogger(__name__)

_READ_SIZE = 65536
_LINGER_BYTES = 16 * 1024 * 1024  # read and dropped at most while waiting for a peer to close


def ws_message_frame(message: Message) -> bytes:
    return frame(Opcode.TEXT, b'{"type":"message","message":' + message.json + b"}")


def handshake_problem(environ: dict[str, Any]) -> str | None:
    """Why this upgrade request cannot become a WebSocket, or None if it can."""
    if environ.get("SERVER_PROTOCOL") != "HTTP/1.1":
        return "A WebSocket upgrade needs HTTP/1.1."
    if environ.get("HTTP_SEC_WEBSOCKET_VERSION") != "13":
        return "Only WebSocket version 13 (RFC 6455) is spoken here."
    try:
        key = base64.b64decode(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 16:
        return "Sec-WebSocket-Key must be 16 bytes in base64."
    return None


def checked_upgrade() -> Callable[[], tuple[bytes, socket.socket]]:
    """The upgrade request's checks; returns what sends the 101, to call once the view's
    own checks have passed too."""
    accept = request.environ.get("chatlab.accept_websocket")
    if accept is None:
        raise ChatError(
            ErrorCode.UNAVAILABLE,
            "WebSockets need chatlab's own server (chatlab serve); this one cannot upgrade.",
        )
    problem = handshake_problem(request.environ)
    if problem is not None:
        raise ChatError(ErrorCode.BAD_REQUEST, problem)
    return accept


def server_endpoint() -> Endpoint:
    return Endpoint(Role.SERVER, max_message=int(current_app.config["MAX_FRAME"]))


@bp.route("/ws", websocket=True)
@streaming
def websocket() -> Response:
    accept = checked_upgrade()
    server, config = state(), current_app.config
    cursor = server.chat.cursor(request.args.get("since"))
    early, sock = accept()  # the 101 is sent only now, after every check passed
    outbox = Outbox(
        server,
        g.chat_session,
        Transport.WEBSOCKET,
        cursor=cursor,
        meter=request.environ.get("chatlab.meter"),
        sock=sock,
        send_queue=int(config["SEND_QUEUE"]),
        batch_size=int(config["WRITE_BATCH"]),
    )
    connection = WebSocketConnection(
        server,
        g.chat_session,
        outbox,
        server_endpoint(),
        early,
        sock,
        float(config["CLOSE_TIMEOUT"]),
    )
    connection.run()
    return Response(status=200)  # never sent: the connection was a WebSocket


@bp.route("/ws/echo", websocket=True)
@streaming
def echo() -> Response:
    if not current_app.config["WS_ECHO"]:
        raise ChatError(
            ErrorCode.NOT_FOUND, "The echo service is off (CHATLAB_WS_ECHO=true turns it on)."
        )
    accept = checked_upgrade()
    endpoint = server_endpoint()
    early, sock = accept()
    EchoConnection(endpoint, early, sock, float(current_app.config["CLOSE_TIMEOUT"])).run()
    return Response(status=200)


def incoming(early: bytes, sock: socket.socket) -> Iterator[bytes]:
    """What the client sends: the bytes that came with its request, then each socket read,
    until it hangs up."""
    if early:
        yield early
    while True:
        try:
            data = sock.recv(_READ_SIZE)
        except OSError:
            return
        if not data:
            return
        yield data


def linger(sock: socket.socket, timeout: float) -> None:
    """After our close frame: half-close, then drop what the client still sends until it
    closes too, so the close frame reaches it before the kernel would reset a socket with
    unread data."""
    try:
        sock.shutdown(socket.SHUT_WR)
        with gevent.Timeout(timeout, False):
            dropped = 0
            while dropped < _LINGER_BYTES:
                chunk = sock.recv(_READ_SIZE)
                if not chunk:
                    break
                dropped += len(chunk)
    except OSError:
        pass


class EchoConnection:
    """Every message back as it came, text as text and binary as binary. One greenlet
    reads and writes: an echo has nothing to write but answers."""

    def __init__(self, endpoint: Endpoint, early: bytes, sock: socket.socket,
                 close_timeout: float) -> None:  # fmt: skip
        self.endpoint = endpoint
        self.early = early
        self.sock = sock
        self.close_timeout = close_timeout

    def run(self) -> None:
        endpoint = self.endpoint
        try:
            for data in incoming(self.early, self.sock):
                answers = b"".join(self._answer(event) for event in endpoint.receive(data))
                if answers:
                    self.sock.sendall(answers)
                if not endpoint.reading:
                    linger(self.sock, self.close_timeout)
                    return
        except OSError:
            return

    def _answer(self, event: Event) -> bytes:
        endpoint = self.endpoint
        match event:
            case TextMessage(data):
                return endpoint.send_text(data)
            case BinaryMessage(data):
                return endpoint.send_binary(data)
            case Ping(data):
                return endpoint.pong(data)
            case Close():
                return endpoint.close(event.answer_code)
            case Violation(code, reason):
                return endpoint.close(code, reason)
        return b""  # a pong


class WebSocketConnection:
    def __init__(
        self,
        server: ServerState,
        session: Session,
        outbox: Outbox,
        endpoint: Endpoint,
        early: bytes,
        sock: socket.socket,
        close_timeout: float,
    ) -> None:
        self.chat = server.chat
        self.session = session
        self.outbox = outbox
        self.endpoint = endpoint
        self.early = early
        self.sock = sock
        self.close_timeout = close_timeout
        self.replies: deque[bytes] = deque()
        self.close_wanted: tuple[int, str] | None = None  # a close frame the writer must send
        self.reader_done = gevent.event.Event()

    def run(self) -> None:
        self.outbox.open()
        writer = gevent.spawn(self._write_loop)
        try:
            self._read_loop()
        finally:
            self.reader_done.set()
            if self.close_wanted is not None or self.endpoint.close_sent:
                writer.join(self.close_timeout)
                linger(self.sock, self.close_timeout)
            writer.kill()
            self.outbox.close()

    # -- reading (this greenlet) ------------------------------------------------------------

    def _read_loop(self) -> None:
        endpoint = self.endpoint
        for data in incoming(self.early, self.sock):
            for event in endpoint.receive(data):
                self._handle(event)
            if not endpoint.reading:
                return

    def _handle(self, event: Event) -> None:
        match event:
            case TextMessage(data):
                self._handle_text(data)
            case BinaryMessage():
                self._reply_error(ChatError(ErrorCode.BAD_REQUEST, "Frames must be JSON text."))
            case Ping(data):
                self._reply(self.endpoint.pong(data))
            case Close():
                if not self.endpoint.close_sent:  # else it answers ours
                    self._want_close(event.answer_code, "")
            case Violation(code, reason):
                self._want_close(code, reason)

    def _handle_text(self, payload: bytes) -> None:
        try:
            body = json.loads(payload)  # the codec checked that it is UTF-8
        except ValueError:
            self._reply_error(ChatError(ErrorCode.BAD_JSON, "The frame is not valid JSON."))
            return
        if not isinstance(body, dict):
            self._reply_error(ChatError(ErrorCode.BAD_REQUEST, "A frame must be a JSON object."))
            return
        cid = body.get("cid") if isinstance(body.get("cid"), str) else None
        try:
            self._reply_json(self._answer(body, cid))
        except ChatError as error:
            self._reply_error(error, cid)

    def _answer(self, body: dict[str, Any], cid: str | None) -> dict[str, Any]:
        kind = body.get("type")
        if kind == "send":
            result = self.chat.send(self.session, body)
            return {"type": "ack", "cid": cid, "id": result.id}
        if kind == "join":
            room, members = self.chat.join(self.session, body.get("room"))
            return {"type": "joined", "room": room, "members": members}
        if kind == "leave":
            return {"type": "left", "room": self.chat.leave(self.session, body.get("room"))}
        raise ChatError(
            ErrorCode.BAD_REQUEST, f"Unknown frame type {kind!r}: expected send, join or leave."
        )

    def _reply(self, data: bytes) -> None:
        self.replies.append(data)
        self.outbox.wakeup.set()

    def _reply_json(self, body: dict[str, Any]) -> None:
        self._reply(self.endpoint.send_text(dumps(body)))

    def _reply_error(self, error: ChatError, cid: str | None = None) -> None:
        body: dict[str, Any] = {"type": "error", **error.as_dict()}
        if cid is not None:
            body["cid"] = cid
        self._reply_json(body)

    def _want_close(self, code: int, reason: str) -> None:
        self.close_wanted = (code, reason)
        self.outbox.wakeup.set()

    # -- writing (the writer greenlet, the only one that writes) ---------------------------

    def _write(self, data: bytes) -> bool:
        """Put all of `data` on the socket; whether it had to wait for room (letting other
        greenlets run). gevent's sendall asks the kernel for the buffer size on every call
        (3.8 µs a 300-byte write here, against 1.0 µs for one send), so one send that never
        waits is tried first: it takes everything when the client keeps up."""
        try:
            sent = self.sock.send(data, 0, timeout=0.0)  # gevent's send: 0.0 never waits
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return False
        with self.outbox.writing():
            self.sock.sendall(memoryview(data)[sent:])
        return True

    def _write_loop(self) -> None:
        try:
            self._write_until_closed()
        except ChatError as error:  # the chat's shared store is unreachable
            self._close_refused(error)
        except OSError:
            self.outbox.live.abort()  # the peer is gone; wake the reader too
        except Exception:
            log.exception("WebSocket writer failed")
            self.outbox.live.abort()

    def _write_until_closed(self) -> None:
        outbox, replies, endpoint = self.outbox, self.replies, self.endpoint
        while True:
            batch = outbox.next_batch()
            frames = list(replies)
            replies.clear()
            if self.close_wanted is not None:
                self._send_close(frames, *self.close_wanted)
                return
            if batch.ended:
                self._send_close(frames, CloseCode.NORMAL, "session ended")
                self._await_reader()
                return
            if batch.gap_oldest is not None:
                frames.append(endpoint.send_text(b'{"type":"gap","oldest":%d}' % batch.gap_oldest))
            frames.extend(m.wire("ws", ws_message_frame) for m in batch.messages)
            if frames:
                waited = self._write(b"".join(frames))
                outbox.handed_over(batch)
                if outbox.overflowing(batch, waited):
                    self._send_close([], CloseCode.TRY_AGAIN_LATER, "consumer too slow")
                    self._await_reader()
                    return
                if batch.remaining or replies:
                    continue
            outbox.wakeup.wait()

    def _close_refused(self, error: ChatError) -> None:
        """Say why reading stopped in an error frame, then close with 1013: the client
        reconnects later from its cursor."""
        refused = self.endpoint.send_text(dumps({"type": "error", **error.as_dict()}))
        try:
            self._send_close([refused], CloseCode.TRY_AGAIN_LATER, str(error.code))
            self._await_reader()
        except OSError:
            self.outbox.live.abort()

    def _send_close(self, frames: list[bytes], code: int, reason: str) -> None:
        frames.append(self.endpoint.close(code, reason))
        self._write(b"".join(frames))

    def _await_reader(self) -> None:
        """After our close frame: give the client time to answer, then cut the connection."""
        if not self.reader_done.wait(self.close_timeout):
            self.outbox.live.abort()
