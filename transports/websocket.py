"""WebSocket: `GET /ws?since=N`, JSON text frames both ways, one writer per connection.

gevent-websocket does the handshake; every frame goes through the codec of
`wire.websocket`. The view's own greenlet reads: it feeds each read to the connection's
endpoint and handles the events that come out, and is the connection's only greenlet while
nothing waits to be written (an idle connection needs no writer). Messages are written by the
server's delivery greenlet (transports.deliveries), replies (acks, errors, joined, pongs) by
the reader, both through the connection's `SocketWriter` (transports.socket_writer): a send
that never waits, and what the kernel does not take queued for a drainer greenlet that lives
only until the queue is empty. Only one greenlet is ever inside a write to a socket, frames
never interleave, and a client that stops reading blocks nobody.

Bounds on what one client can make the server do (docs/PROTOCOL.md): `REPLY_QUEUE` replies
waiting unsent (a client that sends pings and never reads its pongs is closed with 1008),
`MAX_FRAGMENTS` frames in one message (1008), and fair turns: a connection with much input
buffered yields to the others after every `_FAIR_FRAMES` frames, and feeds the codec at most
`_FAIR_BYTES` at a time, since gevent's recv returns buffered bytes without yielding.

Measured in the room of 100 (a message a second each; µs of server CPU per delivered message,
server alone on core 0, Locust on core 1, alternating runs on the shared lab machine): a
writer greenlet per connection woken for every message, 19.6-25.0; this design 13.9-17.6,
against the bare broadcast loop's 14.0-15.8 and Flask-SocketIO's 34.3-37.7. Idle
WebSockets, resident memory each (10,000 in one process, `chatlab bench --workload idle`):
43.8 KiB with the writer greenlet, 24.7 KiB with none (and no Flask request context held,
and pywsgi's read buffer let go).

`GET /ws/echo` (off unless the WS_ECHO setting is on) sends every message back as it came,
for conformance suites: the same handshake checks, codec and limits.
"""

import base64
import binascii
import json
import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import gevent
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
from .deliveries import Due
from .outbox import Outbox
from .socket_writer import SocketWriter
from .state import ServerState, state

bp = Blueprint(Transport.WEBSOCKET, __name__)
log = logging.getLogger(__name__)

_READ_SIZE = 65536
_LINGER_BYTES = 16 * 1024 * 1024  # read and dropped at most while waiting for a peer to close
# A turn: at most 16 frames handled, and at most 4 KiB parsed (~680 empty frames, ~0.7 ms
# here), before the reader lets other greenlets run.
_FAIR_FRAMES = 16
_FAIR_BYTES = 4096
_DELIVERY_ROUNDS = 4  # batches one delivery writes before the other connections' turn


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


def checked_upgrade(environ: Mapping[str, Any]) -> Callable[[], tuple[bytes, socket.socket]]:
    """The upgrade request's checks; returns what sends the 101, to call once the view's
    own checks have passed too."""
    accept = environ.get("chatlab.accept_websocket")
    if accept is None:
        raise ChatError(
            ErrorCode.UNAVAILABLE,
            "WebSockets need chatlab's own server (chatlab serve); this one cannot upgrade.",
        )
    problem = handshake_problem(environ)
    if problem is not None:
        raise ChatError(ErrorCode.BAD_REQUEST, problem)
    return accept


def server_endpoint(config: Mapping[str, Any]) -> Endpoint:
    return Endpoint(Role.SERVER, int(config["MAX_FRAME"]), int(config["MAX_FRAGMENTS"]))


def serve(server: ServerState, config: Mapping[str, Any], session: Session,
          query: Mapping[str, str], environ: Mapping[str, Any]) -> None:  # fmt: skip
    """Check the upgrade, send the 101, and serve the connection until it closes: for the
    gateway (transports.gateway), which serves `GET /ws` with `Upgrade: websocket` in front
    of Flask, and for the Flask view. ChatError: refused before the 101."""
    accept = checked_upgrade(environ)
    cursor = server.chat.cursor(query.get("since"))
    early, sock = accept()  # the 101 is sent only now, after every check passed
    outbox = Outbox(
        server,
        session,
        Transport.WEBSOCKET,
        cursor=cursor,
        meter=environ.get("chatlab.meter"),
        sock=sock,
        send_queue=int(config["SEND_QUEUE"]),
        batch_size=int(config["WRITE_BATCH"]),
        wakeup=Due(server.deliveries),
    )
    connection = WebSocketConnection(
        server,
        session,
        outbox,
        server_endpoint(config),
        early,
        sock,
        float(config["CLOSE_TIMEOUT"]),
        int(config["REPLY_QUEUE"]),
    )
    connection.run()


@bp.route("/ws", websocket=True)
@streaming
def websocket() -> Response:
    """Served by the gateway but under servers that cannot upgrade (503) and for requests
    that do not ask to (400, from Werkzeug's router)."""
    serve(state(), current_app.config, g.chat_session, request.args, request.environ)
    return Response(status=200)  # never sent: the connection was a WebSocket


@bp.route("/ws/echo", websocket=True)
@streaming
def echo() -> Response:
    if not current_app.config["WS_ECHO"]:
        raise ChatError(
            ErrorCode.NOT_FOUND, "The echo service is off (CHATLAB_WS_ECHO=true turns it on)."
        )
    accept = checked_upgrade(request.environ)
    endpoint = server_endpoint(current_app.config)
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
                for start in range(0, len(data), _FAIR_BYTES):
                    if start:
                        gevent.sleep(0)  # a turn for the others between slices of one read
                    piece = data[start : start + _FAIR_BYTES]
                    answers = b"".join(self._answer(event) for event in endpoint.receive(piece))
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
    """One chat WebSocket: the view's greenlet reads, and nothing else runs for it while it is
    idle. Its messages are delivered by the server's delivery greenlet (`deliver`) and its
    replies by the reader, each through the connection's `SocketWriter`, the only way to its
    socket; a drainer greenlet exists only while the socket is full."""

    def __init__(
        self,
        server: ServerState,
        session: Session,
        outbox: Outbox,
        endpoint: Endpoint,
        early: bytes,
        sock: socket.socket,
        close_timeout: float,
        reply_queue: int,
    ) -> None:
        self.chat = server.chat
        self.session = session
        self.outbox = outbox
        self.endpoint = endpoint
        self.early = early
        self.sock = sock
        self.close_timeout = close_timeout
        self.reply_queue = reply_queue
        self.live = outbox.live
        self.live.reply_queue = reply_queue
        self.writer = SocketWriter(sock, self.live, self._refill)
        self.reading = True  # False once the server stops taking the client's frames
        self.taking = False  # a batch is being read from the stream
        self.asked_while_taking = False  # news came while a batch was being read
        self.more = False  # the last batch taken left messages behind
        self.close_timer: Any = None  # cuts the connection if the client never answers our close
        wakeup = outbox.wakeup
        assert isinstance(wakeup, Due), "a WebSocket's stream is delivered, not waited on"
        wakeup.connection = self

    def run(self) -> None:
        self.outbox.open()
        try:
            self.deliver()  # what waits already, from the cursor the client asked for
            self._read_loop()
        except OSError:
            pass
        finally:
            try:
                if self.endpoint.close_sent:
                    self._finish_close()
            finally:
                if self.close_timer is not None:
                    self.close_timer.close()
                self.writer.stop()
                self.outbox.close()

    # -- reading (this greenlet) ------------------------------------------------------------

    def _read_loop(self) -> None:
        endpoint, handle = self.endpoint, self._handle
        handled = 0
        for data in incoming(self.early, self.sock):
            for start in range(0, len(data), _FAIR_BYTES):
                for event in endpoint.receive(data[start : start + _FAIR_BYTES]):
                    handle(event)
                    handled += 1
                if not (endpoint.reading and self.reading):
                    return
                if handled >= _FAIR_FRAMES:
                    # bytes may be waiting still, and gevent's recv would return them without
                    # yielding: let the others run before this connection takes more turns
                    handled = 0
                    gevent.sleep(0)

    def _handle(self, event: Event) -> None:
        if self.endpoint.close_sent and not isinstance(event, Close | Violation):
            return  # after our close frame only the client's close matters
        match event:
            case TextMessage(data):
                self._handle_text(data)
            case BinaryMessage():
                self._reply_error(ChatError(ErrorCode.BAD_REQUEST, "Frames must be JSON text."))
            case Ping(data):
                self._reply(self.endpoint.pong(data))
            case Close():
                if not self.endpoint.close_sent:  # else it answers ours
                    self._close(event.answer_code, "", drop_replies=False)
            case Violation(code, reason):
                self._close(code, reason)

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
        self.writer.write(data, reply=True)
        if self.writer.unsent_replies > self.reply_queue:
            self.reading = False
            self._close(CloseCode.POLICY_VIOLATION, "replies are not being read")

    def _reply_json(self, body: dict[str, Any]) -> None:
        self._reply(self.endpoint.send_text(dumps(body)))

    def _reply_error(self, error: ChatError, cid: str | None = None) -> None:
        body: dict[str, Any] = {"type": "error", **error.as_dict()}
        if cid is not None:
            body["cid"] = cid
        self._reply_json(body)

    # -- closing ----------------------------------------------------------------------------

    def _close(self, code: int, reason: str, drop_replies: bool = True) -> None:
        """The reader closes (the client's close answered, a violation, unread replies):
        the close frame goes behind what is being written, unsent replies dropped first
        unless the client asked for the close itself."""
        if self.endpoint.close_sent:
            return  # ours is on its way already
        if drop_replies:
            self.writer.drop_unsent_replies()
        self.writer.write(self._close_frame(code, reason))

    def _close_frame(self, code: int, reason: str) -> bytes:
        """Our close frame, to write behind what is being written; if the client has not
        closed too within CLOSE_TIMEOUT, the connection is cut."""
        self.live.closing = True
        self.close_timer = gevent.get_hub().loop.timer(self.close_timeout)
        self.close_timer.start(self.live.abort)
        return self.endpoint.close(code, reason)

    def _finish_close(self) -> None:
        """After our close frame: drop what the client still sends while the frame waits to
        be written, then half-close and linger (`linger`)."""
        with gevent.Timeout(self.close_timeout, False):
            dropped = 0
            while self.writer.busy and dropped < _LINGER_BYTES:
                chunk = self.sock.recv(_READ_SIZE)
                if not chunk:
                    return
                dropped += len(chunk)
        if self.writer.join(0):
            linger(self.sock, self.close_timeout)

    # -- delivering (the server's delivery greenlet, or the drainer) ------------------------

    def deliver(self) -> None:
        """The stream grew: write what waits now, unless the drainer has the socket (it
        takes the stream's news itself once its queue is empty)."""
        writer = self.writer
        for _ in range(_DELIVERY_ROUNDS):
            if writer.busy or self.endpoint.close_sent:
                return
            data = self._next_frames(waited=False)
            if not data:
                return
            try:
                if not writer.write(data) or not self.more:
                    return
            except OSError:
                self.live.abort()  # the peer is gone; the reader wakes and ends the connection
                return
        self.outbox.wakeup.set()  # more than a few batches wait: come back after the others

    def _refill(self) -> bytes:
        """The drainer's queue is empty: the next frames, after a write that waited."""
        if self.endpoint.close_sent:
            return b""
        return self._next_frames(waited=True)

    def _next_frames(self, waited: bool) -> bytes:
        """The next batch of the stream as frames, the batch handed over; a close frame
        instead when the session ended, or after it when the client is too far behind.
        b"" while another greenlet is taking a batch (a backend that waits for its store
        lets the delivery greenlet and the drainer both ask): it writes what it takes, and
        the connection is marked again for what that batch may have missed."""
        if self.taking:
            self.asked_while_taking = True
            return b""
        outbox, endpoint = self.outbox, self.endpoint
        self.taking = True
        try:
            batch = outbox.next_batch()
        except ChatError as error:  # a shared store the chat cannot reach: come back later
            refused = endpoint.send_text(dumps({"type": "error", **error.as_dict()}))
            return refused + self._close_frame(CloseCode.TRY_AGAIN_LATER, str(error.code))
        finally:
            self.taking = False
            if self.asked_while_taking:
                # what woke the asker may have landed after that read: the wakeup, set then,
                # would stay set and ignore every later message. Marked anew, the delivery
                # greenlet comes back for it.
                self.asked_while_taking = False
                outbox.wakeup.clear()
                outbox.wakeup.set()
        self.more = batch.remaining > 0
        if batch.ended:
            return self._close_frame(CloseCode.NORMAL, "session ended")
        if not batch.messages and batch.gap_oldest is None:
            return b""
        messages = batch.messages
        if len(messages) == 1 and batch.gap_oldest is None:
            data = messages[0].wire("ws", ws_message_frame)  # a live stream's usual batch
        else:
            frames = [m.wire("ws", ws_message_frame) for m in messages]
            if batch.gap_oldest is not None:
                gap = b'{"type":"gap","oldest":%d}' % batch.gap_oldest
                frames.insert(0, endpoint.send_text(gap))
            data = b"".join(frames)
        outbox.handed_over(batch)
        if outbox.overflowing(batch, waited):
            return data + self._close_frame(CloseCode.TRY_AGAIN_LATER, "consumer too slow")
        return data
