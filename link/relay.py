"""The relay: a TCP link with a round-trip time, jitter and a rate cap, on gevent's loop.

Per accepted connection the relay connects to the target; "up" is client → target, "down"
target → client. Each direction reads whatever arrives, stamps it with a monotonic clock and
queues (due time, bytes); what is due is written in one send. The rules a client and a server
see:

- **Delay.** A chunk read at t is due at t + RTT/2, plus, with jitter J, a uniform draw in
  [0, J] per chunk (jitter only adds: a link's propagation delay is its floor). Due times never
  decrease, so bytes keep their order in each direction.
- **Handshake.** A real client's connect() returns one RTT after its SYN and a real server's
  accept() half an RTT later; here connect() returns at once. So bytes the client sends count
  as sent no earlier than accept + RTT, and the server's no earlier than accept + 1.5 RTT: a
  request sent right after connect() reaches the server at 1.5 RTT, and the first answer on a
  new connection is back after about 2 RTT; on a kept-alive connection after about 1 RTT.
- **Rate.** With a cap of R bit/s per direction, bytes are paced in 1,448-byte segments, each
  occupying the link len × 8 / R seconds from when it is both sent and the link is free; the
  delay is added after that, so queueing shows up as delay, as on a slow link.
- **Bounded buffers.** A direction stops reading once `buffer_bytes` are read but not yet
  written (and resumes at half): the sender then feels TCP back-pressure. So a direction
  carries at most `buffer_bytes` / (RTT/2) bytes a second.
- **Close.** A FIN is passed on (shutdown for writing) after the data before it; the other
  direction goes on (half-close). A reset (or a write that fails) is passed on as a reset: the
  other side gets the data already in flight, then an RST (close with SO_LINGER 0); what was
  travelling towards the side that reset is dropped.
- **Unreachable target.** The client's connection is reset one RTT after it was accepted,
  when a real connect() would have been refused.

Counts, per connection and in total: bytes read and written each way (`up_written` is what
the target received, `down_read` what it sent: the figures its TCP_INFO `bytes_received` and
`bytes_sent` report), how each connection ended, and the most bytes a direction ever held.

Design, measured. Callbacks on the loop's own watchers (an io watcher per socket and
direction, one timer per direction at a time), no greenlets; at rtt 0 a chunk goes straight
from recv to send. A first version with a reader and a writer greenlet per direction (4 per
connection, a gevent Queue between them, gevent.sleep until due) cost 2.5-3.5 times as much.
`link.cost` (`chatlab link --measure-cost`), the relay in its own process, 10 s windows, 2
cores shared with other work (load average 1-3); ranges over three runs (two for greenlets):

                                           callbacks (this)    greenlets
    WebSocket push, 100 connections, 10,000 messages/s server → clients, CPU per message:
      rtt 0                                11-14 µs            33-51 µs
      rtt 50 ms                            14-18 µs            27-38 µs
    HTTP keep-alive, 1,000 connections, 1,500 requests/s, CPU per request (2 chunks):
      rtt 0                                33-37 µs            96-135 µs
      rtt 50 ms                            67-75 µs            129-152 µs
    latency added at rtt 0 (64 B ping):
      p50                                  17-20 µs            60-82 µs
      p99                                  42-64 µs (2.2 ms    127-181 µs
                                           in a run with a stall)
    RSS with 1,000 connections             35 MiB              80 MiB

So at the sweep's heaviest loads the relay takes 11-18 % of a core (WebSocket push) or
5-11 % (HTTP); that share counts against the load generator's budget when it runs there.
With a delay each chunk costs two loop wakeups (read, then due) instead of one.
"""

import errno
import random
import socket
import struct
import time
from collections import deque
from typing import Any

import gevent
from gevent import monkey

from .address import family, host_port

# The stdlib class even where gevent has patched the module: the relay drives non-blocking
# sockets from loop watchers itself; gevent's cooperative wrapper would only add cost.
_Socket = monkey.get_original("socket", "socket")

READ, WRITE = 1, 2  # event masks of gevent's loop.io (libev and libuv alike)
CHUNK = 65536
SEGMENT = 1448  # paced unit under a rate cap: an Ethernet segment's payload
ACCEPTS_PER_WAKEUP = 64
ACCEPT_PAUSE_S = 0.1  # out of file descriptors: retry accepting after this
_LINGER_ZERO = struct.pack("ii", 1, 0)
_FIN = b""  # queue marker: pass on an orderly close
_RESET = None  # queue marker: pass on a reset
_now = time.monotonic

ENDS = ("closed", "reset_by_client", "reset_by_server", "unreachable", "stopped")


class LinkError(Exception):
    """A start-up refusal, said in one sentence (busy port, unusable address)."""


class Link:
    """A relay from `listen` to `target`; `start()` and `stop()` it inside a gevent program.

    Times in milliseconds and the rate in kbit/s, as on `chatlab link`'s command line.
    """

    def __init__(
        self,
        listen: tuple[str, int],
        target: tuple[str, int],
        rtt_ms: float = 0.0,
        jitter_ms: float = 0.0,
        rate_kbit: float | None = None,
        buffer_bytes: int = 256 * 1024,
        keep_closed: int = 10_000,
        connect_timeout_s: float = 10.0,
        seed: int | None = None,
    ) -> None:
        if rtt_ms < 0 or jitter_ms < 0:
            raise ValueError("rtt_ms and jitter_ms must be ≥ 0")
        if rate_kbit is not None and rate_kbit <= 0:
            raise ValueError("rate_kbit must be > 0 (or None: no cap)")
        if buffer_bytes < 1:
            raise ValueError("buffer_bytes must be ≥ 1")
        self.listen_address = listen
        self.target = target
        self.rtt_ms, self.jitter_ms, self.rate_kbit = rtt_ms, jitter_ms, rate_kbit
        self.rtt_s = rtt_ms / 1000
        self.one_way_s = self.rtt_s / 2
        self.jitter_s = jitter_ms / 1000
        self.bits_per_s = 0.0 if rate_kbit is None else rate_kbit * 1000
        self.buffer_bytes = buffer_bytes
        self.connect_timeout_s = connect_timeout_s
        self.rng = random.Random(seed)
        self.address: tuple[str, int] | None = None
        self.loop: Any = None
        self.started_at = 0.0
        self.accept_errors = 0
        self._listener: Any = None
        self._accepting: Any = None
        self._accept_pause: Any = None
        self._next_id = 1
        self._open: dict[int, _Connection] = {}
        self._closed: deque[dict[str, Any]] = deque(maxlen=keep_closed)
        self._closed_totals = dict.fromkeys(_BYTE_FIELDS, 0)
        self._closed_count = 0
        self._ends = dict.fromkeys(ENDS, 0)
        self._max_queued = 0

    # --- life cycle ---

    def start(self) -> tuple[str, int]:
        """Listen and relay from now on; returns the bound address. LinkError if it cannot."""
        self.loop = gevent.get_hub().loop
        listener = _Socket(family(self.listen_address[0]), socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(self.listen_address)
        except OSError as error:
            listener.close()
            host, port = self.listen_address
            if error.errno == errno.EADDRINUSE:
                raise LinkError(f"Port {port} on {host} is already in use") from None
            raise LinkError(f"cannot listen on {host}:{port} ({error.strerror})") from None
        listener.listen(4096)
        listener.setblocking(False)
        self._listener = listener
        self.address = listener.getsockname()[:2]
        self.started_at = _now()
        self._accepting = self.loop.io(listener.fileno(), READ)
        self._accepting.start(self._on_acceptable)
        return self.address

    def stop(self) -> None:
        """Stop listening and close every connection (the counts stay readable)."""
        if self._accepting is not None:
            self._accepting.stop()
            self._accepting = None
        if self._accept_pause is not None:
            self._accept_pause.stop()
            self._accept_pause = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for connection in list(self._open.values()):
            connection.finish("stopped")

    def __enter__(self) -> "Link":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- counts ---

    def stats(self, closed: bool = True) -> dict[str, Any]:
        """A JSON-ready snapshot: settings, totals, and one record per connection: the open
        ones and (if `closed`) the last `keep_closed` closed ones. Listing 10,000 closed
        records costs ~0.1 s of CPU."""
        open_records = [connection.record() for connection in self._open.values()]
        totals = dict(self._closed_totals)
        for record in open_records:
            for field in _BYTE_FIELDS:
                totals[field] += record[field]
        max_queued = max(
            [self._max_queued]
            + [c.up.max_queued for c in self._open.values()]
            + [c.down.max_queued for c in self._open.values()]
        )
        return {
            "listen": host_port(self.address or self.listen_address),
            "target": host_port(self.target),
            "rtt_ms": self.rtt_ms,
            "jitter_ms": self.jitter_ms,
            "rate_kbit": self.rate_kbit,
            "buffer_bytes": self.buffer_bytes,
            "seconds": round(_now() - self.started_at, 3) if self.started_at else 0.0,
            "connections": {
                "accepted": self._next_id - 1,
                "open": len(self._open),
                "ended": dict(self._ends),
                "accept_errors": self.accept_errors,
            },
            "bytes": totals,
            "max_queued_bytes": max_queued,
            "per_connection": open_records + (list(self._closed) if closed else []),
            "closed_not_listed": self._closed_count - (len(self._closed) if closed else 0),
        }

    def _ended(self, connection: "_Connection") -> None:
        del self._open[connection.id]
        record = connection.record()
        for field in _BYTE_FIELDS:
            self._closed_totals[field] += record[field]
        self._ends[record["end"]] += 1
        self._max_queued = max(self._max_queued, connection.up.max_queued,
                               connection.down.max_queued)  # fmt: skip
        self._closed.append(record)
        self._closed_count += 1

    # --- accepting ---

    def _on_acceptable(self) -> None:
        listener = self._listener
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                fd, address = listener._accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError:  # out of descriptors or memory: wait instead of spinning
                self.accept_errors += 1
                self._accepting.stop()
                self._accept_pause = self.loop.timer(ACCEPT_PAUSE_S)
                self._accept_pause.start(self._resume_accepting, update=True)
                return
            client = _Socket(listener.family, socket.SOCK_STREAM, 0, fileno=fd)
            try:
                connection = _Connection(self, self._next_id, client, address)
            except OSError:  # reset already, or no descriptor left for the target side
                self.accept_errors += 1
                client.close()
                continue
            self._open[connection.id] = connection
            self._next_id += 1
            connection.begin()

    def _resume_accepting(self) -> None:
        self._accept_pause = None
        if self._accepting is not None:
            self._accepting.start(self._on_acceptable)


_BYTE_FIELDS = ("up_read", "up_written", "down_read", "down_written")


class _Connection:
    __slots__ = ("link", "id", "client", "server", "client_address", "server_side",
                 "accepted_at", "closed_at", "end", "up", "down", "_connecting",
                 "_connect_timer", "_reset_timer")  # fmt: skip

    def __init__(self, link: Link, number: int, client: Any, address: Any) -> None:
        self.link, self.id = link, number
        self.client, self.client_address = client, address
        self.accepted_at = now = _now()
        self.closed_at: float | None = None
        self.end = ""
        self.server_side: Any = None
        self._connecting: Any = None
        self._connect_timer: Any = None
        self._reset_timer: Any = None
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = _Socket(family(link.target[0]), socket.SOCK_STREAM)
        try:
            server.setblocking(False)
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            server.close()
            raise
        self.server = server
        self.up = _Direction(self, client, server, now + link.rtt_s)
        self.down = _Direction(self, server, client, now + 1.5 * link.rtt_s)

    def begin(self) -> None:
        self.up.start_reading()  # the client's bytes are stamped on arrival, even while connecting
        error = self.server.connect_ex(self.link.target)
        if error == 0:
            self._connected()
        elif error == errno.EINPROGRESS:
            self._connecting = self.link.loop.io(self.server.fileno(), WRITE)
            self._connecting.start(self._on_connect_done)
            self._connect_timer = self.link.loop.timer(self.link.connect_timeout_s)
            self._connect_timer.start(self._unreachable, update=True)
        else:
            self._unreachable()

    def _stop_connecting(self) -> None:
        for watcher in (self._connecting, self._connect_timer):
            if watcher is not None:
                watcher.stop()
        self._connecting = self._connect_timer = None

    def _on_connect_done(self) -> None:
        if self.server.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self._unreachable()
        else:
            self._connected()

    def _connected(self) -> None:
        self._stop_connecting()
        self.server_side = self.server.getsockname()
        self.down.start_reading()
        self.up.ready = True
        self.up.flush()

    def _unreachable(self) -> None:
        """A refused connect costs a round trip: reset the client one RTT after accept."""
        self._stop_connecting()
        self.end = "unreachable"
        self.up.halt()
        self.down.halt()
        wait = self.accepted_at + self.link.rtt_s - _now()
        if wait <= 0:
            self.finish("unreachable", abort=self.client)
            return
        self._reset_timer = self.link.loop.timer(wait)
        self._reset_timer.start(self.finish, "unreachable", self.client, update=True)

    def side_lost(self, dead: Any) -> None:
        """`dead` was reset (or a write to it failed): pass the reset on to the other side
        after what is already in flight, and drop what was travelling towards `dead`."""
        if self.end:
            return
        from_dead, to_dead = (self.up, self.down) if dead is self.client else (self.down, self.up)
        self.end = "reset_by_client" if dead is self.client else "reset_by_server"
        to_dead.halt()
        from_dead.stop_reading()
        if not self.up.ready:  # the target is not even connected yet
            self.finish(self.end)
            return
        from_dead.push(_now(), _RESET)

    def direction_finished(self) -> None:
        if self.up.finished and self.down.finished:
            self.finish("closed")

    def finish(self, end: str, abort: Any = None) -> None:
        """Stop every watcher, then close both sockets (`abort` with an RST)."""
        if self.closed_at is not None:
            return
        self.closed_at = _now()
        self.end = end
        self._stop_connecting()
        if self._reset_timer is not None:
            self._reset_timer.stop()
            self._reset_timer = None
        self.up.halt()
        self.down.halt()
        for side in (self.client, self.server):
            if side is abort:
                try:
                    side.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
                except OSError:
                    pass
            side.close()
        self.link._ended(self)

    def record(self) -> dict[str, Any]:
        started = self.link.started_at
        return {
            "id": self.id,
            "client": host_port(self.client_address),
            "server_side": None if self.server_side is None else host_port(self.server_side),
            "opened_s": round(self.accepted_at - started, 6),
            "closed_s": None if self.closed_at is None else round(self.closed_at - started, 6),
            "end": self.end if self.closed_at is not None else "open",
            "up_read": self.up.read_bytes,
            "up_written": self.up.written_bytes,
            "down_read": self.down.read_bytes,
            "down_written": self.down.written_bytes,
        }


class _Direction:
    """src → dst: a read watcher on src, a queue of (due, bytes), a timer for the head, and a
    write watcher on dst for when the kernel's buffer is full."""

    __slots__ = ("conn", "loop", "src", "dst", "opens_at", "one_way", "jitter", "rng",
                 "bits_per_s", "direct", "limit", "queue", "pending", "queued", "max_queued",
                 "last_due", "free_at", "reader", "writer", "timer", "armed", "paused",
                 "ready", "finished", "halted", "read_bytes", "written_bytes")  # fmt: skip

    def __init__(self, conn: _Connection, src: Any, dst: Any, opens_at: float) -> None:
        link = conn.link
        self.conn, self.loop, self.src, self.dst = conn, link.loop, src, dst
        self.opens_at = opens_at
        self.one_way, self.jitter, self.rng = link.one_way_s, link.jitter_s, link.rng
        self.bits_per_s = link.bits_per_s
        self.direct = not (link.one_way_s or link.jitter_s or link.bits_per_s)
        self.limit = link.buffer_bytes
        self.queue: deque[tuple[float, bytes | None]] = deque()
        self.pending = b""  # bytes already due that the kernel has not taken yet
        self.queued = self.max_queued = 0  # read but not yet written
        self.last_due = self.free_at = 0.0
        self.reader = self.loop.io(src.fileno(), READ)
        self.writer: Any = None
        self.timer: Any = None
        self.armed = False  # a timer or the write watcher will call flush
        self.paused = False
        self.ready = src is conn.server  # "up" waits for the target's connect
        self.finished = self.halted = False
        self.read_bytes = self.written_bytes = 0

    def start_reading(self) -> None:
        self.reader.start(self._on_readable)

    def stop_reading(self) -> None:
        self.reader.stop()

    def halt(self) -> None:
        """Stop for good: no reading, no writing, nothing queued."""
        self.halted = True
        self.reader.stop()
        if self.writer is not None:
            self.writer.stop()
        if self.timer is not None:
            self.timer.stop()
        self.queue.clear()
        self.pending = b""
        self.queued = 0
        self.armed = False

    def _on_readable(self) -> None:
        try:
            data = self.src.recv(CHUNK)
        except BlockingIOError:
            return
        except OSError:
            self.conn.side_lost(self.src)
            return
        if not data:
            self.reader.stop()
            self.push(_now(), _FIN)
            return
        self.read_bytes += len(data)
        if self.direct and self.ready and not self.queued:
            sent = self._send(data)
            if sent < 0:
                return
            self.written_bytes += sent
            if sent == len(data):
                return
            data = data[sent:]
        self.push(_now(), data)

    def _send(self, data: bytes) -> int:
        """Bytes the kernel took (0: its buffer is full), or -1: dst is gone, and the
        connection is passing the reset on."""
        try:
            return self.dst.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            self.conn.side_lost(self.dst)
            return -1

    def push(self, now: float, data: bytes | None) -> None:
        sent_at = now if now > self.opens_at else self.opens_at
        if self.bits_per_s and data:
            for start in range(0, len(data), SEGMENT):
                segment = data[start : start + SEGMENT]
                free = self.free_at if self.free_at > sent_at else sent_at
                self.free_at = free + len(segment) * 8 / self.bits_per_s
                self._append(self.free_at, segment)
        else:
            self._append(sent_at, data)
        if data:
            self.queued += len(data)
            if self.queued > self.max_queued:
                self.max_queued = self.queued
            if self.queued >= self.limit and not self.paused:
                self.paused = True
                self.reader.stop()
        if not self.armed:
            self.flush()

    def _append(self, sent_at: float, data: bytes | None) -> None:
        due = sent_at + self.one_way
        if self.jitter:
            due += self.jitter * self.rng.random()
        if due < self.last_due:
            due = self.last_due
        self.last_due = due
        self.queue.append((due, data))

    def flush(self) -> None:
        """Write what is due; arm the timer for the next due chunk, or the write watcher."""
        self.armed = False
        if not self.ready or self.halted:
            return
        queue = self.queue
        now = _now()
        while True:
            if self.pending:
                sent = self._send(self.pending)
                if sent < 0:
                    return
                self.written_bytes += sent
                self.queued -= sent
                if sent < len(self.pending):
                    self.pending = self.pending[sent:]
                    if self.writer is None:
                        self.writer = self.loop.io(self.dst.fileno(), WRITE)
                    self.writer.start(self.flush)
                    self.armed = True
                    break
                self.pending = b""
                if self.writer is not None:
                    self.writer.stop()
            if not queue:
                break
            due, data = queue[0]
            if due > now:
                self.timer = self.loop.timer(due - now)
                self.timer.start(self.flush, update=True)
                self.armed = True
                break
            queue.popleft()
            if data is _RESET:
                self.conn.finish(self.conn.end, abort=self.dst)
                return
            if not data:
                if not self._pass_fin():
                    return
                continue  # only a reset can follow
            if queue and queue[0][0] <= now and queue[0][1]:
                parts = [data]
                while queue and queue[0][0] <= now and queue[0][1]:
                    parts.append(queue.popleft()[1])
                data = b"".join(parts)
            self.pending = data
        if self.paused and self.queued <= self.limit // 2:
            self.paused = False
            self.reader.start(self._on_readable)

    def _pass_fin(self) -> bool:
        """Shut dst down for writing; False if the connection has ended meanwhile."""
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            self.conn.side_lost(self.dst)
            return False
        self.finished = True
        self.conn.direction_finished()
        return self.conn.closed_at is None
