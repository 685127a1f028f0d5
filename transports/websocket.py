"""WebSocket: `GET /ws?since=N`, JSON text frames both ways, one writer per connection.

The view's own greenlet reads client frames; a second greenlet is the only one that ever
writes to the socket. Replies (acks, errors, joined) go through the writer's queue, so frames
can never interleave, and a client that stops reading blocks nobody but its own writer.
"""

import base64
import binascii
import json
import logging
import socket
from collections import deque
from typing import Any

import gevent
import gevent.event
from flask import Blueprint, Response, current_app, g, request

from chat_core import ChatError, ErrorCode, Message, Session, Transport
from chat_core.message import dumps

from .auth import streaming
from .outbox import Outbox
from .state import ServerState, state
from .ws_protocol import (
    CLOSE_NORMAL,
    CLOSE_TRY_AGAIN_LATER,
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ConnectionLost,
    MessageReader,
    ProtocolViolation,
    close_frame,
    encode_frame,
    parse_close,
    text_frame,
)

bp = Blueprint(Transport.WEBSOCKET, __name__)
log = logging.getLogger(__name__)

_LINGER_BYTES = 16 * 1024 * 1024  # read and dropped at most while waiting for a peer to close


def ws_message_frame(message: Message) -> bytes:
    return text_frame(b'{"type":"message","message":' + message.json + b"}")


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


@bp.route("/ws", websocket=True)
@streaming
def websocket() -> Response:
    accept = request.environ.get("chatlab.accept_websocket")
    if accept is None:
        raise ChatError(
            ErrorCode.UNAVAILABLE,
            "WebSockets need chatlab's own server (chatlab serve); this one cannot upgrade.",
        )
    problem = handshake_problem(request.environ)
    if problem is not None:
        raise ChatError(ErrorCode.BAD_REQUEST, problem)
    server, config = state(), current_app.config
    cursor = server.chat.cursor(request.args.get("since"))
    read, sock = accept()  # the 101 is sent only now, after every check passed
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
        MessageReader(read, int(config["MAX_FRAME"])),
        sock,
        float(config["CLOSE_TIMEOUT"]),
    )
    connection.run()
    return Response(status=200)  # never sent: the connection was a WebSocket


class WebSocketConnection:
    def __init__(
        self,
        server: ServerState,
        session: Session,
        outbox: Outbox,
        reader: MessageReader,
        sock: socket.socket,
        close_timeout: float,
    ) -> None:
        self.chat = server.chat
        self.session = session
        self.outbox = outbox
        self.reader = reader
        self.sock = sock
        self.close_timeout = close_timeout
        self.replies: deque[bytes] = deque()
        self.close_wanted: tuple[int, str] | None = None  # a close frame the writer must send
        self.close_sent = False
        self.reader_done = gevent.event.Event()

    def run(self) -> None:
        self.outbox.open()
        writer = gevent.spawn(self._write_loop)
        try:
            self._read_loop()
        finally:
            self.reader_done.set()
            if self.close_wanted is not None or self.close_sent:
                writer.join(self.close_timeout)
                self._linger()
            writer.kill()
            self.outbox.close()

    # -- reading (this greenlet) ------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                opcode, payload = self.reader.next()
            except ProtocolViolation as violation:
                self._want_close(violation.code, violation.reason)
                return
            except (ConnectionLost, OSError):
                return
            if opcode == OP_TEXT:
                if not self._handle_text(payload):
                    return
            elif opcode == OP_BINARY:
                self._reply_error(ChatError(ErrorCode.BAD_REQUEST, "Frames must be JSON text."))
            elif opcode == OP_PING:
                self._reply(encode_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                if not self.close_sent:
                    self._want_close(parse_close(payload), "")
                return
            elif opcode == OP_PONG:
                pass

    def _handle_text(self, payload: bytes) -> bool:
        try:
            frame = json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError:
            self._want_close(1007, "text frames must be UTF-8")
            return False
        except ValueError:
            self._reply_error(ChatError(ErrorCode.BAD_JSON, "The frame is not valid JSON."))
            return True
        if not isinstance(frame, dict):
            self._reply_error(ChatError(ErrorCode.BAD_REQUEST, "A frame must be a JSON object."))
            return True
        cid = frame.get("cid") if isinstance(frame.get("cid"), str) else None
        try:
            self._reply(dumps(self._answer(frame, cid)), text=True)
        except ChatError as error:
            self._reply_error(error, cid)
        return True

    def _answer(self, frame: dict[str, Any], cid: str | None) -> dict[str, Any]:
        kind = frame.get("type")
        if kind == "send":
            result = self.chat.send(self.session, frame)
            return {"type": "ack", "cid": cid, "id": result.id}
        if kind == "join":
            room, members = self.chat.join(self.session, frame.get("room"))
            return {"type": "joined", "room": room, "members": members}
        if kind == "leave":
            return {"type": "left", "room": self.chat.leave(self.session, frame.get("room"))}
        raise ChatError(
            ErrorCode.BAD_REQUEST, f"Unknown frame type {kind!r}: expected send, join or leave."
        )

    def _reply(self, payload: bytes, text: bool = False) -> None:
        self.replies.append(text_frame(payload) if text else payload)
        self.outbox.wakeup.set()

    def _reply_error(self, error: ChatError, cid: str | None = None) -> None:
        body: dict[str, Any] = {"type": "error", **error.as_dict()}
        if cid is not None:
            body["cid"] = cid
        self._reply(dumps(body), text=True)

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
        except OSError:
            self.outbox.live.abort()  # the peer is gone; wake the reader too
        except Exception:
            log.exception("WebSocket writer failed")
            self.outbox.live.abort()

    def _write_until_closed(self) -> None:
        outbox, replies = self.outbox, self.replies
        while True:
            batch = outbox.next_batch()
            frames = list(replies)
            replies.clear()
            if self.close_wanted is not None:
                self._send_close(frames, *self.close_wanted)
                return
            if batch.ended:
                self._send_close(frames, CLOSE_NORMAL, "session ended")
                self._await_reader()
                return
            if batch.gap_oldest is not None:
                frames.append(text_frame(b'{"type":"gap","oldest":%d}' % batch.gap_oldest))
            frames.extend(m.wire("ws", ws_message_frame) for m in batch.messages)
            if frames:
                waited = self._write(b"".join(frames))
                outbox.handed_over(batch)
                if outbox.overflowing(batch, waited):
                    self._send_close([], CLOSE_TRY_AGAIN_LATER, "consumer too slow")
                    self._await_reader()
                    return
                if batch.remaining or replies:
                    continue
            outbox.wakeup.wait()

    def _send_close(self, frames: list[bytes], code: int, reason: str) -> None:
        frames.append(close_frame(code, reason))
        self.close_sent = True
        self._write(b"".join(frames))

    def _await_reader(self) -> None:
        """After our close frame: give the client time to answer, then cut the connection."""
        if not self.reader_done.wait(self.close_timeout):
            self.outbox.live.abort()

    def _linger(self) -> None:
        """Half-close, then drop what the client still sends until it closes too, so the
        close frame reaches it before the kernel would reset a socket with unread data."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
            with gevent.Timeout(self.close_timeout, False):
                dropped = 0
                while dropped < _LINGER_BYTES:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        break
                    dropped += len(chunk)
        except OSError:
            pass
