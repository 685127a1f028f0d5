"""What the relay itself costs, measured over real sockets on 127.0.0.1.

- `added_latency()`: round trips of a 64-byte ping to an echo server, straight and through a
  link at rtt 0, alternated in one run; p50 and p99 of each and their differences.
- `relay_cpu(load, rtt_ms)`: the relay (`chatlab link`, its own process) carries one of the
  sweep's loads; its CPU time over the window (the scheduler's per-thread count, in ns) divided
  by the messages delivered. `LOADS` are the sweep's heaviest: WebSocket frames pushed
  server → clients, and keep-alive HTTP request/answer pairs.

The load runs in this process, one thread, non-blocking sockets and `selectors`: the test
client and server, both ends of every connection. Run it with `chatlab link --measure-cost`
or `python -m link.cost`; about a minute.
"""

import os
import selectors
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from lab.process_usage import process_cpu_seconds

from .process import LinkProcess

PING_BYTES = 64


@dataclass(frozen=True, slots=True)
class Load:
    name: str
    connections: int
    messages_per_s: float
    request_bytes: int  # client → server per message; 0: the server pushes
    answer_bytes: int  # server → client per message


LOADS = (
    # a 2-byte header and a 118-byte chat message, the way the server frames it
    Load("websocket push", connections=100, messages_per_s=10_000, request_bytes=0,
         answer_bytes=120),
    # a short poll with the minimal header profile, and an answer holding one message
    Load("http keep-alive", connections=1_000, messages_per_s=1_500, request_bytes=250,
         answer_bytes=400),
)  # fmt: skip


def measure_cost(
    rtts_ms: tuple[float, ...] = (0.0, 50.0),
    window_s: float = 10.0,
    round_trips: int = 2_000,
    loads: tuple[Load, ...] = LOADS,
    command: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Every figure of this module, JSON-ready. `command` runs another relay program (one
    that speaks `chatlab link`'s arguments), to compare designs."""
    extra = {} if command is None else {"command": command}
    return {
        "added_latency": added_latency(round_trips, **extra),
        "relay_cpu": [relay_cpu(load, rtt, window_s, **extra) for load in loads for rtt in rtts_ms],
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
    }


def added_latency(round_trips: int = 2_000, **link_args: Any) -> dict[str, float | int]:
    """Microseconds: ping round trips straight to an echo server and through a link at rtt
    0, alternated so that both see the same machine."""
    with _EchoServer() as echo, LinkProcess(echo.address, 0.0, **link_args) as link:
        straight = socket.create_connection(echo.address)
        linked = socket.create_connection(link.address)
        samples: dict[str, list[float]] = {"straight": [], "linked": []}
        try:
            for connection in (straight, linked):
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for _ in range(200):  # warm up both paths
                    _ping(connection)
            for _ in range(round_trips):
                samples["straight"].append(_ping(straight))
                samples["linked"].append(_ping(linked))
        finally:
            straight.close()
            linked.close()
    figures: dict[str, float | int] = {"round_trips": round_trips}
    for path, values in samples.items():
        cuts = statistics.quantiles(values, n=100)
        figures[f"{path}_p50_us"] = round(cuts[49] * 1e6, 1)
        figures[f"{path}_p99_us"] = round(cuts[98] * 1e6, 1)
    for cut in ("p50", "p99"):
        added = figures[f"linked_{cut}_us"] - figures[f"straight_{cut}_us"]
        figures[f"added_{cut}_us"] = round(added, 1)
    return figures


def _ping(connection: socket.socket) -> float:
    started = time.perf_counter()
    connection.sendall(b"p" * PING_BYTES)
    received = 0
    for _ in range(PING_BYTES):
        chunk = connection.recv(PING_BYTES - received)
        if not chunk:
            raise RuntimeError("the echo server closed the connection")
        received += len(chunk)
        if received == PING_BYTES:
            return time.perf_counter() - started
    raise RuntimeError("the echo answer never completed")


class _EchoServer:
    """An echo server in its own process (`python -m link.cost --echo`): in this one, its
    threads would contend with the pinging thread for the GIL on the straight path only."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "link.cost", "--echo"], stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"the echo server did not start: {line!r}")
        self.address = ("127.0.0.1", int(line))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> "_EchoServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_echo() -> None:
    """Echo every connection's bytes, a thread per connection, until terminated."""
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    for _ in range(10_000):
        connection, _ = listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_echo, args=(connection,), daemon=True).start()


def _echo(connection: socket.socket) -> None:
    with connection:
        for _ in range(10**7):
            try:
                data = connection.recv(65536)
                if not data:
                    return
                connection.sendall(data)
            except OSError:
                return


def relay_cpu(
    load: Load, rtt_ms: float, window_s: float = 10.0, **link_args: Any
) -> dict[str, Any]:
    """The relay's CPU per message while it carries `load` at `rtt_ms`."""
    import psutil

    listener = socket.create_server(("127.0.0.1", 0), backlog=load.connections + 16)
    listener.setblocking(False)
    with LinkProcess(listener.getsockname()[:2], rtt_ms, **link_args) as link:
        _drop_waiting(listener)  # the link's start-up check of its target
        relay = psutil.Process(link.pid)
        with _LoadDriver(load, listener, link.address) as driver:
            driver.run_for(1.0)  # warm up: every connection has carried a message
            cpu_before, delivered_before = process_cpu_seconds(link.pid), driver.delivered
            started = time.monotonic()
            driver.run_for(window_s)
            elapsed = time.monotonic() - started
            cpu = process_cpu_seconds(link.pid) - cpu_before
            delivered = driver.delivered - delivered_before
            rss = relay.memory_info().rss
    listener.close()
    per_message = cpu / delivered if delivered else float("nan")
    return {
        **asdict(load),
        "rtt_ms": rtt_ms,
        "window_s": round(elapsed, 2),
        "delivered_per_s": round(delivered / elapsed, 1),
        "relay_cpu_s": round(cpu, 3),
        "relay_cpu_share": round(cpu / elapsed, 3),
        "relay_cpu_per_message_us": round(per_message * 1e6, 1),
        "relay_rss_bytes": rss,
    }


def _drop_waiting(listener: socket.socket) -> None:
    for _ in range(100):
        try:
            listener.accept()[0].close()
        except BlockingIOError:
            return


class _LoadDriver:
    """Both ends of `load.connections` connections through the link; `run_for` paces the
    messages and counts those delivered whole."""

    def __init__(self, load: Load, listener: socket.socket, link: tuple[str, int]) -> None:
        self.load = load
        self.selector = selectors.DefaultSelector()
        self.clients = [self._connect(link) for _ in range(load.connections)]
        self.servers = self._accept_all(listener, load.connections)
        self.delivered = 0
        self.received = dict.fromkeys(self.clients + self.servers, 0)
        self.busy: set[socket.socket] = set()  # clients waiting for an answer
        self.sent = 0
        for side in self.clients + self.servers:
            side.setblocking(False)
            self.selector.register(side, selectors.EVENT_READ)

    @staticmethod
    def _connect(link: tuple[str, int]) -> socket.socket:
        client = socket.create_connection(link, timeout=10)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client

    @staticmethod
    def _accept_all(listener: socket.socket, count: int) -> list[socket.socket]:
        accepted: list[socket.socket] = []
        deadline = time.monotonic() + 30
        with selectors.DefaultSelector() as waiting:
            waiting.register(listener, selectors.EVENT_READ)
            while len(accepted) < count and time.monotonic() < deadline:
                waiting.select(timeout=1)
                for _ in range(count - len(accepted)):
                    try:
                        server, _ = listener.accept()
                    except BlockingIOError:
                        break
                    server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    accepted.append(server)
        if len(accepted) < count:
            raise RuntimeError(f"only {len(accepted)} of {count} connections reached the server")
        return accepted

    def run_for(self, seconds: float) -> None:
        load, started = self.load, time.monotonic()
        client_sides = set(self.clients)
        request, answer = b"q" * load.request_bytes, b"a" * load.answer_bytes
        first_sent = self.sent
        for _ in range(int(seconds * 10_000) + 100):  # at most one pass per 0.1 ms, bounded
            now = time.monotonic()
            if now - started >= seconds:
                return
            due = int((now - started) * load.messages_per_s) - (self.sent - first_sent)
            for _ in range(max(0, due)):
                self._send_one(request, answer)
            for key, _ in self.selector.select(timeout=0.0005):
                side: socket.socket = key.fileobj  # type: ignore[assignment]
                data = side.recv(65536)
                if not data:
                    raise RuntimeError("a connection through the link closed during the load")
                self.received[side] += len(data)
                if side in client_sides:
                    self._client_received(side)
                elif load.request_bytes and self.received[side] >= load.request_bytes:
                    self.received[side] -= load.request_bytes
                    side.sendall(answer)

    def _send_one(self, request: bytes, answer: bytes) -> None:
        index = self.sent % len(self.clients)
        self.sent += 1
        if not self.load.request_bytes:
            self.servers[index].sendall(answer)  # a push: server → client
            return
        client = self.clients[index]
        if client in self.busy:
            return  # its last request is still out: a poller waits for its answer
        self.busy.add(client)
        client.sendall(request)

    def _client_received(self, client: socket.socket) -> None:
        whole, self.received[client] = divmod(self.received[client], self.load.answer_bytes)
        self.delivered += whole
        if whole:
            self.busy.discard(client)

    def __enter__(self) -> "_LoadDriver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.selector.close()
        for side in self.clients + self.servers:
            side.close()


def summary_lines(figures: dict[str, Any]) -> list[str]:
    latency = figures["added_latency"]
    lines = [
        f"latency added at rtt 0 ({latency['round_trips']} ping round trips of "
        f"{PING_BYTES} B each way, alternated):",
        f"  straight p50 {latency['straight_p50_us']:.0f} µs, p99 {latency['straight_p99_us']:.0f}"
        f" µs; through the link p50 {latency['linked_p50_us']:.0f} µs, p99 "
        f"{latency['linked_p99_us']:.0f} µs; added p50 {latency['added_p50_us']:.0f} µs, "
        f"p99 {latency['added_p99_us']:.0f} µs",
        f"relay CPU per message (its own process, {figures['cores']} cores shared):",
    ]
    for row in figures["relay_cpu"]:
        lines.append(
            f"  {row['name']}, {row['connections']} connections, rtt {row['rtt_ms']:g} ms: "
            f"{row['delivered_per_s']:.0f} msg/s (asked {row['messages_per_s']:.0f}), "
            f"{row['relay_cpu_per_message_us']:.1f} µs/msg, "
            f"{row['relay_cpu_share']:.0%} of a core, RSS {row['relay_rss_bytes'] / 2**20:.0f} MiB"
        )
    return lines


if __name__ == "__main__":
    if sys.argv[1:] == ["--echo"]:
        serve_echo()
    else:
        for summary_line in summary_lines(measure_cost()):
            print(summary_line)
