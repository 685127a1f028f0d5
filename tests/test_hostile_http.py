"""Hostile HTTP clients against a real `chatlab serve`, each probe as an attacker would write it,
while a normal client in another process times its own polls (tests/timed_client.py).

Each probe must get its clear refusal or close, give back the memory it took, and leave the
normal client's worst poll under 250 ms (a generous margin for a shared 2-core machine: the
unfixed server stalled it 1.4-2.2 s, or locked it out)."""

import json
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clients import Api, unique
from raw_ws import RawWebSocket

from lab.server_process import ServerProcess

HERE = Path(__file__).resolve().parent
WORST_MS = 250
MiB = 1024 * 1024


class TimedClient:
    """tests/timed_client.py in a child process; `worst` and `samples` once stopped."""

    def __init__(self, url: str, interval: float = 0.1) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "timed_client.py"), url, str(interval)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline()
        if ready.strip() != "ready":
            self.process.kill()
            raise AssertionError(f"the timed client did not start: {ready!r}")
        self.started = time.time()
        self.samples: list[list[float]] = []
        self.failures: list[list[Any]] = []

    def stop(self) -> None:
        self.stopped = time.time()
        try:
            out, _ = self.process.communicate("", timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        result = json.loads(out.strip().splitlines()[-1])
        self.samples, self.failures = result["samples"], result["failures"]

    @property
    def worst(self) -> float:
        return max(seconds for _, seconds in self.samples)

    def assert_unharmed(self, during: tuple[float, float]) -> None:
        began, ended = during
        inside = [s for at, s in self.samples if began <= at <= ended]
        worst_ms = self.worst * 1000
        slow = [(round(at - began, 2), round(s * 1000)) for at, s in self.samples if s > 0.1]
        print(f"normal client: {len(inside)} polls during the probe, worst {worst_ms:.1f} ms")
        assert not self.failures, self.failures[:5]
        assert worst_ms < WORST_MS, f"worst poll {worst_ms:.0f} ms; (s into the probe, ms): {slow}"
        assert len(inside) >= 3, f"too few polls during the probe: {len(inside)}"


@contextmanager
def timed(server: ServerProcess) -> Iterator[TimedClient]:
    client = TimedClient(server.url)
    try:
        yield client
    finally:
        client.stop()


def rss(server: ServerProcess) -> int:
    return server.metrics()["process"]["rss_bytes"]


def warmed_rss(server: ServerProcess, connections: int) -> int:
    """The server's RSS once it has served `connections` at once, and closed them: what a
    first crowd makes it allocate for good (greenlets, the loop's file tables) is not
    what a probe may be charged with."""
    crowd = [connect(server) for _ in range(connections)]
    for sock in crowd:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    for sock in crowd:
        read_to_end(sock)
        sock.close()
    return rss(server)


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_to_end(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes; AssertionError if it does not in time."""
    sock.settimeout(timeout)
    got = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        except TimeoutError:
            kept = bytes(got[:300])
            raise AssertionError(f"the server kept the connection open: {kept!r}") from None
        if not data:
            break
        got += data
    return bytes(got)


def answers(data: bytes) -> list[tuple[int, bytes]]:
    """(status, body) of each HTTP answer in `data` (bodies with Content-Length)."""
    found = []
    while data.startswith(b"HTTP/1.1 "):
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        found.append((status, rest[:length]))
        data = rest[length:]
    return found


def auth(api: Api) -> bytes:
    return f"Authorization: Bearer {api.token}\r\n".encode()


def poll_request(api: Api) -> bytes:
    return b"GET /api/poll HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(api) + b"\r\n"


def wait_for(condition: Any, timeout: float, what: str) -> float:
    """Seconds until `condition()` held; AssertionError after `timeout`."""
    began = time.monotonic()
    for _ in range(100_000):
        if condition():
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            break
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout} s")


# --- fair turns --------------------------------------------------------------------------


def test_pipelined_requests_wait_their_turn_behind_other_clients(server_factory):
    server = server_factory()
    api = Api(server.url, unique("pipeline"))
    count = 5000
    sock = connect(server)
    got = bytearray()

    def read_answers() -> None:
        sock.settimeout(30)
        while got.count(b"HTTP/1.1 200 ") < count:
            data = sock.recv(1 << 20)
            if not data:
                return
            got.extend(data)

    with timed(server) as normal:
        began = time.time()
        reader = threading.Thread(target=read_answers)
        reader.start()
        sock.sendall(poll_request(api) * count)  # one write
        reader.join(60)
        ended = time.time()
    sock.close()
    print(f"pipelined: {count} polls answered in {ended - began:.2f} s")
    assert got.count(b"HTTP/1.1 200 ") == count
    normal.assert_unharmed((began, ended))


# --- bounds on what a request may make the server keep ------------------------------------


def test_huge_unfinished_heads_are_refused_and_their_memory_comes_back(server_factory):
    server = server_factory()
    before = warmed_rss(server, 20)
    connections, line = 20, b"X-Pad: " + b"a" * 60_000 + b"\r\n"
    results: list[bytes] = []
    peaks: list[int] = []

    def attack(sent: threading.Barrier) -> None:
        sock = connect(server)
        try:
            try:
                sock.sendall(b"GET /api/poll HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                for _ in range(98):  # and never the blank line that ends a head
                    sock.sendall(line)
            except OSError:
                pass  # refused and closed while still sending
            sent.wait()
            results.append(read_to_end(sock))
        finally:
            sock.close()

    with timed(server) as normal:
        began = time.time()
        for _ in range(20):  # rounds, for a second at least: long enough to time others
            sent = threading.Barrier(connections + 1, timeout=30)
            attackers = [threading.Thread(target=attack, args=(sent,)) for _ in range(connections)]
            for attacker in attackers:
                attacker.start()
            sent.wait()
            peaks.append(rss(server))
            for attacker in attackers:
                attacker.join(30)
            if time.time() - began > 1.5:
                break
        ended = time.time()
    after = rss(server)
    assert len(results) == connections * len(peaks)
    for result in results:
        ((status, body),) = answers(result)
        assert status == 431 and json.loads(body)["error"] == "too_large"
    peak = max(peaks)
    print(f"heads: +{(peak - before) / MiB:.1f} MiB at the peak, +{(after - before) / MiB:.1f}")
    assert peak - before < 8 * MiB, f"+{(peak - before) / MiB:.1f} MiB at the peak"
    assert after - before < 4 * MiB, f"+{(after - before) / MiB:.1f} MiB after"
    normal.assert_unharmed((began, ended))


def _slowloris(server: ServerProcess, connections: int, seconds: float) -> dict[bytes, float]:
    """`connections` heads sent a byte every half second for up to `seconds`: each one's
    answer, by when (seconds from its connect) the server closed it."""
    selector = selectors.DefaultSelector()
    head = b"GET /api/poll HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    start = time.monotonic()
    sockets = [connect(server) for _ in range(connections)]
    received = {sock: b"" for sock in sockets}
    closed_after: dict[socket.socket, float] = {}
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    trickled = 0
    while len(closed_after) < len(sockets) and time.monotonic() - start < seconds:
        if time.monotonic() - start >= trickled * 0.5:
            for sock in sockets:
                if sock not in closed_after:
                    try:
                        sock.send(head[trickled : trickled + 1])
                    except OSError:
                        pass
            trickled += 1
        for key, _ in selector.select(timeout=0.05):
            sock = key.fileobj
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            received[sock] += data
            if not data:
                closed_after[sock] = time.monotonic() - start
                selector.unregister(sock)
    selector.close()
    for sock in sockets:
        sock.close()
    assert len(closed_after) == len(sockets), f"{len(sockets) - len(closed_after)} never cut"
    return {received[sock]: after for sock, after in closed_after.items()}


def test_slowloris_heads_are_cut_at_the_request_deadline(server_factory):
    deadline = 1.5
    server = server_factory(REQUEST_TIMEOUT=deadline)
    before = warmed_rss(server, 500)
    with timed(server) as normal:
        began = time.time()
        for _ in range(2):  # the second round must not keep what the first left
            cut = _slowloris(server, 500, seconds=deadline + 5)
            assert max(cut.values()) < deadline + 2
            assert min(cut.values()) > deadline - 0.5
            assert {answers(data)[0][0] for data in cut} == {408}
            print(f"slowloris: cut after {min(cut.values()):.2f}-{max(cut.values()):.2f} s")
            # and what they held comes back (a trim follows a crowd of cut connections)
            took = wait_for(lambda: rss(server) - before < 2 * MiB, 5, "the memory came back")
            print(f"slowloris: memory back {took:.2f} s after the last cut")
        ended = time.time()
    normal.assert_unharmed((began, ended))


def test_an_idle_keep_alive_connection_is_closed_but_a_long_poll_is_not(server_factory):
    server = server_factory(KEEPALIVE_TIMEOUT=1.0, REQUEST_TIMEOUT=1.0)
    api = Api(server.url, unique("idle"))
    sock = connect(server)
    sock.sendall(poll_request(api))
    began = time.monotonic()
    ((status, _),) = answers(read_to_end(sock, timeout=5))  # the server closes, not the client
    assert status == 200 and 0.8 < time.monotonic() - began < 3
    sock.close()
    # a connection in use is not idle: steady requests (and heads in two halves) for longer
    # than either deadline, all on one connection
    sock = connect(server)
    head, tail = poll_request(api)[:20], poll_request(api)[20:]
    started = time.monotonic()
    served = 0
    while time.monotonic() - started < 3.0:
        sock.sendall(head)
        time.sleep(0.15)  # the client's own pace: half a head, then the rest
        sock.sendall(tail)
        served += len(answers(_read_until(sock, b"}")))
        time.sleep(0.3)
    assert served >= 5
    sock.close()
    # waiting in the app is no idling: a 2 s long poll answers after the 1 s deadlines
    sock = connect(server)
    long_poll = b"GET /api/longpoll?timeout=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(api)
    sock.sendall(long_poll + b"Connection: close\r\n\r\n")
    ((status, body),) = answers(read_to_end(sock, timeout=10))
    assert status == 200 and json.loads(body)["messages"] == []
    sock.close()


_HALF_REQUEST_LIMIT = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
sys.argv = ["chatlab", "serve", *sys.argv[1:]]
runpy.run_module("chatlab", run_name="__main__", alter_sys=True)
"""


def test_idle_half_requests_do_not_lock_every_client_out_at_the_file_limit(tmp_path: Path):
    deadline = 2.0
    server = ServerProcess(
        {"REQUEST_TIMEOUT": deadline},
        stderr=tmp_path / "server.stderr",
        command=[sys.executable, "-P", "-c", _HALF_REQUEST_LIMIT, "--links", "none"],
    )
    try:
        half = b"GET /api/poll HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        held = []
        for _ in range(1100):  # more than the server's files
            sock = socket.socket()
            sock.setblocking(False)
            try:
                sock.connect(("127.0.0.1", server.port))
            except BlockingIOError:
                pass
            held.append(sock)
        for sock in held:
            try:
                sock.send(half)
            except OSError:
                pass
        # a newcomer waits for the deadline to cut the half-requests, not forever
        began = time.monotonic()
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=20) as answer:
            assert answer.status == 200
        waited = time.monotonic() - began
        assert waited < deadline + 3, waited
        for sock in held:
            sock.close()
    finally:
        server.stop()


def test_the_server_raises_its_own_file_limit(tmp_path: Path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(1024, hard)
    lowering = (
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({low}, {hard}))\n"
        'sys.argv = ["chatlab", "serve", *sys.argv[1:]]\n'
        'runpy.run_module("chatlab", run_name="__main__", alter_sys=True)\n'
    )
    server = ServerProcess(
        None,
        stderr=tmp_path / "server.stderr",
        command=[sys.executable, "-P", "-c", lowering, "--links", "none"],
    )
    try:
        limits = Path(f"/proc/{server.metrics()['process']['pid']}/limits").read_text()
        (row,) = [line for line in limits.splitlines() if line.startswith("Max open files")]
        assert row.split()[3:5] == [str(hard), str(hard)], row
    finally:
        server.stop()


# --- strict framing (RFC 9112 §6.3) -------------------------------------------------------


def _framed(api: Api, framing: bytes, body: bytes) -> bytes:
    head = b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(api)
    return head + b"Content-Type: application/json\r\n" + framing + b"\r\n" + body


def assert_refused_alone(server: ServerProcess, requests: bytes, case: str) -> None:
    """The first of `requests` gets 400 bad_request and a close; nothing behind it is served."""
    sock = connect(server)
    sock.sendall(requests)
    found = answers(read_to_end(sock))
    sock.close()
    assert len(found) == 1, (case, found)
    ((status, error),) = found
    assert status == 400, case
    assert json.loads(error)["error"] == "bad_request", case


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


def test_ambiguous_framing_is_refused_and_nothing_behind_it_is_served(server_factory, people):
    server = server_factory()
    room, (api,) = people(server, "framing")
    body = json.dumps({"room": room, "text": "smuggled?"}).encode()
    length = str(len(body)).encode()
    cases = {
        "both": _framed(api, b"Content-Length: " + length + b"\r\nTransfer-Encoding: chunked\r\n",
                        _chunked(body)),
        "differing": _framed(api, b"Content-Length: " + length + b"\r\nContent-Length: 5\r\n",
                             body),
        "signed": _framed(api, b"Content-Length: +" + length + b"\r\n", body),
        "unknown coding": _framed(api, b"Transfer-Encoding: gzip, chunked\r\n", _chunked(body)),
        "coding in 1.0": _framed(api, b"Transfer-Encoding: chunked\r\n", _chunked(body)).replace(
            b"HTTP/1.1", b"HTTP/1.0", 1),
    }  # fmt: skip
    for case, request in cases.items():
        assert_refused_alone(server, request + poll_request(api), case)
    history = api.get(f"/api/rooms/{room}/messages").json()["messages"]
    assert history == []  # none of them was sent


def test_invalid_header_lines_are_refused_and_nothing_behind_them_is_served(server_factory, people):
    # pywsgi's email.parser stopped at such a line and dropped every field after it, the
    # Content-Length included, and served what followed
    server = server_factory()
    room, (api,) = people(server, "fields")
    body = json.dumps({"room": room, "text": "smuggled?"}).encode()
    length = b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    cases = {
        "space before colon": b"X-Note : a\r\n" + length,
        "no colon": b"X-Note\r\n" + length,
        "folded": b"X-Note: a\r\n  b\r\n" + length,
        "bare CR": b"X-Note: a\rb\r\n" + length,
        "NUL": b"X-Note: a\x00b\r\n" + length,
        "not a token": b"X(Note): a\r\n" + length,
    }
    for case, fields in cases.items():
        assert_refused_alone(server, _framed(api, fields, body) + poll_request(api), case)
    sock = connect(server)  # the same request with valid fields: sent, and what follows served
    closing = poll_request(api).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    sock.sendall(_framed(api, b"X-Note:\ta b\t\r\n" + length, body) + closing)
    assert [status for status, _ in answers(read_to_end(sock))] == [201, 200]
    sock.close()
    history = api.get(f"/api/rooms/{room}/messages").json()["messages"]
    assert [message["text"] for message in history] == ["smuggled?"]


def test_a_chunked_body_over_the_limit_gets_413_and_a_close(server_factory, people):
    server = server_factory(MAX_CONTENT_LENGTH=1000)
    room, (api,) = people(server, "chunks")
    sock = connect(server)
    chunk = b"400\r\n" + b"a" * 0x400 + b"\r\n"  # 1 KiB chunks, without end
    sock.sendall(_framed(api, b"Transfer-Encoding: chunked\r\n", chunk * 4) + poll_request(api))
    ((status, error),) = answers(read_to_end(sock))
    sock.close()
    assert status == 413 and json.loads(error)["error"] == "too_large"
    # within the limit, chunked bodies are read, and the connection serves what follows
    body = json.dumps({"room": room, "text": "in chunks"}).encode()
    sock = connect(server)
    closing = poll_request(api).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    sock.sendall(_framed(api, b"Transfer-Encoding: chunked\r\n", _chunked(body)) + closing)
    statuses = [status for status, _ in answers(read_to_end(sock))]
    sock.close()
    assert statuses == [201, 200]


def test_a_content_length_over_the_limit_is_refused_before_its_body(server_factory, people):
    server = server_factory()
    _, (api,) = people(server, "declared")
    sock = connect(server)
    sock.sendall(_framed(api, b"Content-Length: 1000000000000\r\n", b"{"))
    ((status, error),) = answers(read_to_end(sock))
    sock.close()
    assert status == 413 and json.loads(error)["error"] == "too_large"


def test_a_head_over_the_header_limit_gets_431_and_a_close(server_factory):
    server = server_factory(MAX_HEADER_BYTES=4096)
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n")
    ((status, error),) = answers(read_to_end(sock))
    sock.close()
    assert status == 431 and json.loads(error)["error"] == "too_large"
    sock = connect(server)  # just below it: served
    sock.sendall(
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Big: "
        + b"a" * 3900
        + b"\r\n\r\n"
    )
    assert [s for s, _ in answers(read_to_end(sock))] == [200]
    sock.close()


# --- streams whose client has gone, and streams of an ended session -----------------------


def _sse_request(api: Api) -> bytes:
    return b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(api) + b"\r\n"


def _read_until(sock: socket.socket, marker: bytes, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    got = b""
    while marker not in got:
        data = sock.recv(65536)
        assert data, f"closed before {marker!r}: {got!r}"
        got += data
    return got


def test_an_sse_stream_whose_client_has_gone_ends_at_once(server_factory):
    server = server_factory(MAX_STREAMS_PER_SESSION=1)  # SSE_PING stays 15 s
    api = Api(server.url, unique("gone"))
    for _ in range(3):
        sock = connect(server)
        sock.sendall(_sse_request(api))
        _read_until(sock, b"retry: 2000")
        sock.close()
        ended = lambda: server.metrics()["transports"]["sse"]["open"] == 0  # noqa: E731
        took = wait_for(ended, 2.0, "the stream ended")
        print(f"sse: ended {took * 1000:.0f} ms after the client closed")
        # its place among the session's streams is free again
        again = api.get("/api/stream", stream=True, timeout=10)
        assert again.status_code == 200
        again.close()
        wait_for(ended, 2.0, "the second stream ended")


def test_logging_out_ends_every_stream_of_the_session_at_once(server_factory):
    server = server_factory()
    api = Api(server.url, unique("leaving"))
    ws = RawWebSocket(server.url, "/ws", {"Authorization": f"Bearer {api.token}"})
    sse_sock, poll_sock = connect(server), connect(server)
    try:
        assert ws.status == 101
        sse_sock.sendall(_sse_request(api))
        _read_until(sse_sock, b"retry: 2000")
        poll_sock.sendall(
            b"GET /api/longpoll?timeout=30 HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth(api) + b"\r\n"
        )
        opened = lambda: sum(  # noqa: E731
            t["open"] for t in server.metrics()["transports"].values()
        )
        wait_for(lambda: opened() == 3, 5, "three streams open")

        began = time.monotonic()
        assert api.http.delete(f"{server.url}/api/session", timeout=10).status_code == 204
        # the long poll answers 401, the SSE stream ends, the WebSocket is closed with 1000
        poll_sock.settimeout(5)
        ((status, body),) = answers(_read_until(poll_sock, b"}"))
        assert status == 401 and json.loads(body)["error"] == "unauthorized"
        assert _read_until(sse_sock, b"0\r\n\r\n", timeout=5).endswith(b"0\r\n\r\n")
        assert ws.recv_close_code() == 1000
        # the client hangs up once the server has closed, as clients do; one that never
        # answers is cut after CLOSE_TIMEOUT (2 s), which this test would race against
        ws.close()
        wait_for(lambda: opened() == 0, 2, "every stream closed")
        assert time.monotonic() - began < 3
    finally:
        for sock in (poll_sock, sse_sock):
            sock.close()
        ws.close()
