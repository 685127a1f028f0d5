"""`chatlab link`: delay per direction, handshake cost, order under jitter, rate cap, close
and reset passed on, bounded buffers, counts, bad arguments — over real sockets on 127.0.0.1.

Timing asserts lower bounds tightly (the relay must never deliver early) and upper bounds
loosely (the machine is shared). The link runs in its own process, stopped by its pid; the
test drives both the client and the server end of each connection.
"""

import json
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from link.cost import Load, added_latency, relay_cpu
from link.process import LinkProcess

ROOT = Path(__file__).resolve().parent.parent
SLACK_S = 1.0  # generous upper margin for a shared machine
CHUNK = 65536  # the relay's read size


@pytest.fixture
def target() -> Iterator[socket.socket]:
    """The server end: a listening socket the test accepts from itself."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    yield listener
    listener.close()


@pytest.fixture
def start_link(tmp_path: Path, target: socket.socket) -> Iterator[Callable[..., LinkProcess]]:
    """`start_link(rtt_ms, *options)` → a running `chatlab link` to `target`."""
    started: list[LinkProcess] = []

    def start(rtt_ms: float, *options: str) -> LinkProcess:
        number = len(started)
        link = LinkProcess(target.getsockname()[:2], rtt_ms, *options,
                           stats=tmp_path / f"link-{number}.json",
                           stderr=tmp_path / f"link-{number}.stderr")  # fmt: skip
        started.append(link)
        target.accept()[0].close()  # the link's start-up check of its target
        return link

    yield start
    for link in started:
        link.stop()
        assert "Traceback" not in link.stderr_path.read_text()


@pytest.fixture
def connect(target: socket.socket) -> Iterator[Callable[[LinkProcess], tuple]]:
    """`connect(link)` → (client, server): both ends of one connection through the link."""
    opened: list[socket.socket] = []

    def open_pair(link: LinkProcess) -> tuple[socket.socket, socket.socket]:
        client = socket.create_connection(link.address, timeout=10)
        server, _ = target.accept()
        for end in (client, server):
            end.settimeout(10)
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            opened.append(end)
        return client, server

    yield open_pair
    for end in opened:
        end.close()


def receive(end: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes (fewer only at EOF)."""
    data = b""
    for _ in range(size + 1):
        if len(data) >= size:
            break
        chunk = end.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def one_way(sender: socket.socket, receiver: socket.socket, payload: bytes) -> float:
    started = time.monotonic()
    sender.sendall(payload)
    assert receive(receiver, len(payload)) == payload
    return time.monotonic() - started


def round_trip(client: socket.socket, server: socket.socket) -> float:
    started = time.monotonic()
    client.sendall(b"ping")
    assert receive(server, 4) == b"ping"
    server.sendall(b"pong")
    assert receive(client, 4) == b"pong"
    return time.monotonic() - started


def abort(end: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    end.close()


TCP_CLOSE = 7  # tcpi_state, the first byte of TCP_INFO


def tcp_state(end: socket.socket) -> int:
    return end.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def wait_for_tcp_state(end: socket.socket, state: int, timeout: float = 10.0) -> None:
    """recv() on a half-closed socket answers EOF at once: watch the TCP state instead."""
    deadline = time.monotonic() + timeout
    while tcp_state(end) != state and time.monotonic() < deadline:
        time.sleep(0.01)
    assert tcp_state(end) == state


def final_stats(link: LinkProcess) -> dict:
    assert link.stop() == 0
    return link.stats()


def test_the_link_announces_where_it_listens(start_link, target):
    link = start_link(50)
    target_port = target.getsockname()[1]
    assert link.announcement == (
        f"chatlab link: 127.0.0.1:{link.port} → 127.0.0.1:{target_port}, rtt 50 ms"
    )
    assert link.port != 0


def test_each_direction_is_delayed_by_half_the_rtt(start_link, connect):
    client, server = connect(start_link(200))
    round_trip(client, server)  # past the handshake
    ups = [one_way(client, server, b"up%d" % n) for n in range(3)]
    downs = [one_way(server, client, b"down%d" % n) for n in range(3)]
    for delay in ups + downs:
        assert 0.100 <= delay < 0.100 + SLACK_S


def test_the_first_answer_on_a_new_connection_takes_two_round_trips(start_link, target):
    link = start_link(400)
    started = time.monotonic()
    with socket.create_connection(link.address, timeout=10) as client:
        client.sendall(b"GET")  # at once, as a client whose connect() returned would
        server, _ = target.accept()
        with server:
            server.settimeout(10)
            assert receive(server, 3) == b"GET"
            assert time.monotonic() - started >= 1.5 * 0.400
            server.sendall(b"200")
            assert receive(client, 3) == b"200"
            first = time.monotonic() - started
            kept_alive = round_trip(client, server)
    assert 2 * 0.400 <= first < 2 * 0.400 + SLACK_S
    assert 0.400 <= kept_alive < 2 * 0.400  # one round trip, not two


def test_a_server_that_speaks_first_is_heard_after_two_round_trips(start_link, target):
    link = start_link(200)
    started = time.monotonic()
    with socket.create_connection(link.address, timeout=10) as client:
        server, _ = target.accept()
        with server:
            server.sendall(b"220 hello")  # as soon as the server has the connection
            assert receive(client, 9) == b"220 hello"
            heard = time.monotonic() - started
    assert 2 * 0.200 <= heard < 2 * 0.200 + SLACK_S


def test_jitter_varies_the_delay_and_keeps_the_order(start_link, connect):
    client, server = connect(start_link(20, "--jitter", "60"))
    round_trip(client, server)
    count, size = 300, 8
    arrivals: list[tuple[float, int]] = []  # (time, bytes received so far)
    received = bytearray()

    def record() -> None:
        for _ in range(count * size):
            chunk = server.recv(65536)
            if not chunk:
                return
            received.extend(chunk)
            arrivals.append((time.monotonic(), len(received)))
            if len(received) >= count * size:
                return

    recorder = threading.Thread(target=record)
    recorder.start()
    sent_at = []
    for number in range(count):
        sent_at.append(time.monotonic())
        client.sendall(b"%07d\n" % number)
        time.sleep(0.001)  # pacing, so that the relay reads many separate chunks
    recorder.join(timeout=30)
    assert not recorder.is_alive()
    assert bytes(received) == b"".join(b"%07d\n" % number for number in range(count))
    delays = []
    for number, sent in enumerate(sent_at):
        last_byte = (number + 1) * size
        arrived = next(at for at, total in arrivals if total >= last_byte)
        delays.append(arrived - sent)
    assert min(delays) >= 0.010
    # uniform jitter in [0, 60] ms on top of 10 ms: the mean is ~40 ms (more, as order holds)
    assert sum(delays) / len(delays) >= 0.010 + 0.020
    assert max(delays) < 0.010 + 0.060 + SLACK_S


def test_the_rate_caps_each_direction(start_link, connect):
    client, server = connect(start_link(20, "--rate", "400"))  # 50,000 bytes a second
    round_trip(client, server)
    up = one_way(client, server, b"u" * 50_000)
    down = one_way(server, client, b"d" * 25_000)
    assert 50_000 * 8 / 400_000 <= up < 1.0 + 0.010 + 3 * SLACK_S
    assert 25_000 * 8 / 400_000 <= down < 0.5 + 0.010 + 3 * SLACK_S


def test_an_orderly_close_is_passed_on_after_the_data_both_ways(start_link, connect):
    link = start_link(40)
    client, server = connect(link)
    client.sendall(b"request")
    client.shutdown(socket.SHUT_WR)
    assert receive(server, 100) == b"request"  # then EOF
    server.sendall(b"answer")  # half-closed: the way back is still open
    server.shutdown(socket.SHUT_WR)
    assert receive(client, 100) == b"answer"
    assert client.recv(1) == b""
    (record,) = final_stats(link)["per_connection"]
    assert record["end"] == "closed"
    assert (record["up_read"], record["up_written"]) == (7, 7)
    assert (record["down_read"], record["down_written"]) == (6, 6)


@pytest.mark.parametrize("resetting", ["client", "server"])
def test_a_reset_is_passed_on_as_a_reset(start_link, connect, resetting):
    link = start_link(40)
    client, server = connect(link)
    round_trip(client, server)
    resets, other = (client, server) if resetting == "client" else (server, client)
    started = time.monotonic()
    abort(resets)
    with pytest.raises(ConnectionResetError):
        other.recv(100)
    assert time.monotonic() - started >= 0.020
    (record,) = final_stats(link)["per_connection"]
    assert record["end"] == f"reset_by_{resetting}"


def test_a_reset_after_a_half_close_is_passed_on(start_link, connect):
    link = start_link(40)
    client, server = connect(link)
    round_trip(client, server)
    client.shutdown(socket.SHUT_WR)
    assert server.recv(1) == b""  # the FIN has been passed on
    abort(client)
    server.sendall(b"late")  # the relay learns of the reset when it passes this on
    wait_for_tcp_state(server, TCP_CLOSE)
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        server.sendall(b"more")
    (record,) = final_stats(link)["per_connection"]
    assert record["end"] == "reset_by_client"


def test_a_reset_right_behind_a_close_is_passed_on_too(start_link, connect):
    link = start_link(200)
    client, server = connect(link)
    round_trip(client, server)
    server.sendall(b"news")  # it meets the reset on its way: the relay learns of it then
    time.sleep(0.02)  # pacing, not waiting: "news" is due 20 ms before the FIN (of 100 ms)
    client.shutdown(socket.SHUT_WR)
    abort(client)  # so the reset is learnt while the FIN is still on its way
    assert server.recv(100) == b""
    wait_for_tcp_state(server, TCP_CLOSE)
    (record,) = final_stats(link)["per_connection"]
    assert record["end"] == "reset_by_client"


def test_a_target_that_refuses_gets_the_client_reset_after_a_round_trip(start_link, target):
    link = start_link(100)
    target.close()  # from now on the target refuses
    started = time.monotonic()
    with socket.create_connection(link.address, timeout=10) as client:
        with pytest.raises(ConnectionResetError):
            client.recv(100)
    assert time.monotonic() - started >= 0.100
    (record,) = final_stats(link)["per_connection"]
    assert record["end"] == "unreachable"
    assert record["up_written"] == 0


def test_buffers_are_bounded_when_the_receiver_never_reads(start_link, connect):
    link = start_link(0, "--buffer", "64")
    client, server = connect(link)
    client.setblocking(False)
    block, sent = b"x" * 65536, 0
    blocked = False
    for _ in range(4096):  # at most 256 MiB
        try:
            sent += client.send(block)
        except BlockingIOError:
            _, writable, _ = select_writable(client, timeout=2.0)
            if not writable:
                blocked = True  # nothing drains: the sender is held back
                break
    assert blocked, f"the sender never blocked after {sent} bytes"
    assert sent < 128 * 2**20  # kernel buffers on both hops, and the relay's 64 KiB
    rss = psutil.Process(link.pid).memory_info().rss
    assert rss < 150 * 2**20
    stats = final_stats(link)
    assert 0 < stats["max_queued_bytes"] <= 64 * 1024 + CHUNK


def select_writable(end: socket.socket, timeout: float) -> tuple:
    import select

    return select.select([], [end], [], timeout)


def test_the_counts_match_what_each_end_sent_and_received(start_link, connect):
    link = start_link(10)
    sizes = [(1_000, 10), (20_000, 200), (100_000, 3_000)]  # (up, down) per connection
    ends = {}
    for up, down in sizes:
        client, server = connect(link)
        one_way(client, server, bytes(up))
        one_way(server, client, bytes(down))
        ends[server.getpeername()] = (client.getsockname(), up, down)
        client.shutdown(socket.SHUT_WR)
        server.shutdown(socket.SHUT_WR)
        assert (client.recv(1), server.recv(1)) == (b"", b"")
    stats = final_stats(link)
    assert stats["connections"]["accepted"] == 3
    assert stats["connections"]["ended"]["closed"] == 3
    for record in stats["per_connection"]:
        host, port = record["server_side"].rsplit(":", 1)
        client_address, up, down = ends[(host, int(port))]
        assert record["client"] == f"{client_address[0]}:{client_address[1]}"
        assert record["up_read"] == record["up_written"] == up
        assert record["down_read"] == record["down_written"] == down
    assert stats["bytes"]["up_written"] == sum(up for up, _ in sizes)
    assert stats["bytes"]["down_written"] == sum(down for _, down in sizes)


# --- bad arguments: one sentence on stderr, exit code 2 (arguments) or 1 (the world) ---


def chatlab_link(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chatlab", "link", *argv],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip


LISTEN, TO = ["--listen", "127.0.0.1:0"], ["--to", "127.0.0.1:9"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([*LISTEN, *TO, "--rtt", "-5"], "--rtt takes a number of milliseconds ≥ 0, not '-5'"),
        ([*LISTEN, *TO, "--rtt", "fast"], "--rtt takes a number of milliseconds"),
        ([*LISTEN, *TO, "--rtt", "5", "--jitter", "-1"], "--jitter takes a number of millis"),
        ([*LISTEN, *TO, "--rtt", "5", "--rate", "0"], "--rate takes a number of kbit/s > 0"),
        ([*LISTEN, *TO, "--rtt", "5", "--buffer", "x"], "--buffer takes a number of KiB > 0"),
        (["--listen", "6000", *TO, "--rtt", "5"], "--listen takes HOST:PORT"),
        ([*LISTEN, "--to", "127.0.0.1:0", "--rtt", "5"], "--to takes HOST:PORT with a port from 1"),
        ([*LISTEN, "--to", "127.0.0.1:99999", "--rtt", "5"], "--to takes HOST:PORT"),
        ([*LISTEN, "--rtt", "5"], "--listen HOST:PORT, --to HOST:PORT and --rtt MS are all needed"),
    ],
)
def test_bad_arguments_get_one_sentence_and_exit_code_2(argv, words):
    answer = chatlab_link(*argv)
    assert answer.returncode == 2, answer.stderr
    assert answer.stderr.startswith("chatlab link: ") and words in answer.stderr
    assert len(answer.stderr.strip().splitlines()) == 1 and "Traceback" not in answer.stderr
    assert answer.stdout == ""


def test_a_busy_port_is_refused_with_one_sentence(target):
    holder = socket.create_server(("127.0.0.1", 0))
    with holder:
        port = holder.getsockname()[1]
        to = f"127.0.0.1:{target.getsockname()[1]}"
        answer = chatlab_link("--listen", f"127.0.0.1:{port}", "--to", to, "--rtt", "50")
    assert answer.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in answer.stderr
    assert len(answer.stderr.strip().splitlines()) == 1 and "Traceback" not in answer.stderr


def test_an_unreachable_target_is_refused_at_start_up_with_one_sentence():
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    answer = chatlab_link("--listen", "127.0.0.1:0", "--to", f"127.0.0.1:{port}", "--rtt", "5")
    assert answer.returncode == 1
    assert f"nothing answers at 127.0.0.1:{port} (Connection refused)" in answer.stderr
    assert len(answer.stderr.strip().splitlines()) == 1 and "Traceback" not in answer.stderr
    assert answer.stdout == ""


# --- in process, and the cost measurement ---

IN_PROCESS = """
import json, sys, time
from gevent import monkey
monkey.patch_all()
import socket
from gevent.server import StreamServer
from link.relay import Link

def echo(sock, address):
    for _ in range(100):
        data = sock.recv(1000)
        if not data:
            return
        sock.sendall(data)

echo_server = StreamServer(("127.0.0.1", 0), echo)
echo_server.start()
link = Link(("127.0.0.1", 0), ("127.0.0.1", echo_server.server_port), rtt_ms=100)
address = link.start()
started = time.monotonic()
client = socket.create_connection(address)
times = []
for _ in range(2):
    client.sendall(b"hello")
    assert client.recv(100) == b"hello"
    times.append(time.monotonic() - started)
client.close()
for _ in range(200):  # until the relay has seen both ends close
    if link.stats()["connections"]["open"] == 0:
        break
    time.sleep(0.01)
link.stop()
try:
    socket.create_connection(address, timeout=2).close()
    refused = False
except ConnectionRefusedError:
    refused = True
print(json.dumps({"times": times, "stats": link.stats(), "refused": refused}))
"""


def test_the_relay_runs_inside_a_gevent_program():
    answer = subprocess.run([sys.executable, "-c", IN_PROCESS], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    result = json.loads(answer.stdout)
    first, second = result["times"]
    assert first >= 0.200  # a new connection: two round trips
    assert second - first >= 0.100
    stats = result["stats"]
    assert stats["bytes"] == {"up_read": 10, "up_written": 10, "down_read": 10,
                              "down_written": 10}  # fmt: skip
    assert stats["connections"]["ended"]["closed"] == 1
    assert result["refused"]  # stopped: nothing listens any more


def test_the_cost_measurement_reports_the_relays_cpu_per_message():
    load = Load("small push", connections=5, messages_per_s=500, request_bytes=0, answer_bytes=50)
    figures = relay_cpu(load, rtt_ms=10, window_s=1.0)
    assert figures["delivered_per_s"] >= 400
    assert figures["relay_cpu_s"] > 0
    assert figures["relay_cpu_per_message_us"] > 0
    latency = added_latency(round_trips=100)
    assert latency["linked_p50_us"] > 0 and latency["straight_p50_us"] > 0
