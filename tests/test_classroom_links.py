"""The emulated networks of `chatlab serve`: each link comes up on its port (announced on the
server's first line), delays what crosses it, keeps the pages same-origin and the login
valid through it, and is stopped with the server."""

import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from clients import unique

from lab.announced_child import AnnouncedChild
from lab.server_process import ServerProcess
from lab.servers import CHATLAB

SERVE = (sys.executable, "-P", "-m", "chatlab", "serve")
_LINK = re.compile(r"(\d+) ms round trip on http://127\.0\.0\.1:(\d+)/")


def link_ports(announcement: str) -> dict[float, int]:
    """Round trip (ms) → port, from the server's first line."""
    return {float(rtt): int(port) for rtt, port in _LINK.findall(announcement)}


def timed_requests(port: int, count: int) -> list[float]:
    """Seconds each of `count` GET /healthz took, one after another on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    took = []
    try:
        for _ in range(count):
            started = time.monotonic()
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            assert answer.status == 200 and json.loads(answer.read()) == {"ok": True}
            took.append(time.monotonic() - started)
    finally:
        connection.close()
    return took


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(stderr=tmp_path / "server.stderr")
    yield server
    server.stop()


def test_serve_on_port_0_announces_a_link_per_round_trip_each_delaying_by_it(classroom):
    ports = link_ports(classroom.announcement)
    assert sorted(ports) == [50, 200, 600]
    assert len({*ports.values(), classroom.port}) == 4
    for rtt_ms, port in ports.items():
        first, second = timed_requests(port, 2)
        # a new connection costs one round trip more; the relay never delivers early
        assert first >= 2 * rtt_ms / 1000, (rtt_ms, first)
        assert second >= rtt_ms / 1000, (rtt_ms, second)
        assert second < first


def test_each_page_knows_the_network_it_came_through_and_offers_the_others(classroom):
    ports = {0.0: classroom.port, **link_ports(classroom.announcement)}
    for rtt_ms, port in ports.items():
        html = requests.get(f"http://127.0.0.1:{port}/compare?room=r1", timeout=10).text
        assert f'<main id="compare" class="compare" data-room="r1" data-rtt-ms="{rtt_ms:g}"' in html
        offered = dict(re.findall(r'href="([^"]+)" data-rtt-ms="(\d+)"', html))
        assert offered == {
            f"http://127.0.0.1:{p}/compare?room=r1": f"{r:g}" for r, p in ports.items()
        }
        current = re.search(r'data-rtt-ms="(\d+)"\s+aria-current="true"', html)[1]
        assert float(current) == rtt_ms
        assert ("network-badge" in html) == (rtt_ms > 0)


def test_through_a_link_the_origin_check_holds_and_the_login_stays(classroom):
    port = link_ports(classroom.announcement)[50]
    link, direct = f"http://127.0.0.1:{port}", classroom.url
    body = {"name": unique("origin")}
    # the pages through a link send their own origin: the link's port
    same = requests.post(f"{link}/api/session", json=body, headers={"Origin": link}, timeout=10)
    assert same.status_code == 201
    other = requests.post(f"{link}/api/session", json={"name": unique("origin")},
                          headers={"Origin": direct}, timeout=10)  # fmt: skip
    assert other.status_code == 403 and other.json()["error"] == "forbidden"

    # cookies are per host, not per port: logged in directly is logged in on every link
    browser = requests.Session()
    name = unique("cookie")
    login = browser.post(f"{direct}/login", data={"name": name}, headers={"Origin": direct},
                         timeout=10)  # fmt: skip
    assert login.status_code == 200 and login.url == f"{direct}/chat"
    for port in link_ports(classroom.announcement).values():
        chat = browser.get(f"http://127.0.0.1:{port}/chat", allow_redirects=False, timeout=10)
        assert chat.status_code == 200, port
        assert f'data-me="{name}"' in chat.text
        me = browser.get(f"http://127.0.0.1:{port}/api/session", timeout=10)
        assert me.json()["name"] == name


def test_the_links_stop_with_the_server(classroom):
    ports = link_ports(classroom.announcement)
    held = socket.create_connection(("127.0.0.1", ports[50]), timeout=5)
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    held.settimeout(5)
    assert held.recv(65536).startswith(b"HTTP/1.1 200")
    assert classroom.stop() == 0
    assert held.recv(65536) == b""  # the open connection through the link was closed
    held.close()
    for port in (classroom.port, *ports.values()):
        assert refused(port), port


def consecutive_free_ports(count: int) -> int:
    """A port P with P .. P+count-1 free now (the kernel's pick, then its neighbours)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65536:
            continue
        probes = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                probes.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in probes:
                sock.close()
        return first
    raise RuntimeError("no run of free ports found")


def test_beside_a_fixed_port_the_links_take_the_next_ports(tmp_path: Path):
    port = consecutive_free_ports(4)
    argv = [*SERVE, "--host", "127.0.0.1", "--port", str(port)]
    with AnnouncedChild(argv, "the server", stderr=tmp_path / "server.stderr") as server:
        assert link_ports(server.announcement) == {50: port + 1, 200: port + 2, 600: port + 3}
        assert timed_requests(port + 2, 2)[1] >= 0.2


def test_a_busy_link_port_is_refused_in_one_sentence_and_nothing_is_left_listening():
    port = consecutive_free_ports(4)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port + 2))
        squatter.listen()
        done = subprocess.run([*SERVE, "--host", "127.0.0.1", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith(f"chatlab: Port {port + 2} on 127.0.0.1, for the 200 ms link")
    assert "--links none" in done.stderr and "Traceback" not in done.stderr
    assert refused(port) and refused(port + 1)


def test_the_links_can_be_chosen_or_left_out(tmp_path: Path):
    with ServerProcess(command=[*SERVE, "--links", "100"], stderr=tmp_path / "a.err") as server:
        (port,) = link_ports(server.announcement).values()
        assert link_ports(server.announcement) == {100: port}
    with ServerProcess(command=[*SERVE, "--links", "none"], stderr=tmp_path / "b.err") as server:
        assert "emulated" not in server.announcement
        html = requests.get(f"{server.url}/compare", timeout=10).text
        assert 'id="network-choice"' not in html  # nothing to choose from
    for bad in ("fast", "0", "50,50", ""):
        done = subprocess.run([*SERVE, "--port", "0", "--links", bad], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2, bad
        assert done.stderr.startswith("chatlab: --links takes round trips in ms"), bad


def test_a_swept_server_starts_without_links_even_beside_a_busy_next_port(tmp_path: Path):
    port = consecutive_free_ports(4)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port + 1))
        squatter.listen()
        swept = ServerProcess(module=CHATLAB.swept_module, port=port, stderr=tmp_path / "s.err")
        with swept as server:
            assert server.port == port and "emulated" not in server.announcement
