"""The server as a process and as a meter: start-up, shutdown, TCP_NODELAY, the counters."""

import socket
import subprocess
import sys
import time

import requests
from clients import RECEIVERS, Api
from conftest import ROOT

from chat_core import TRANSPORT_HEADER, Transport
from lab.collector import COLLECTOR_THRESHOLDS


def test_a_busy_port_is_refused_with_one_sentence_and_no_traceback(server):
    busy = subprocess.run(
        [sys.executable, "-m", "chatlab", "serve", "--port", str(server.port)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert busy.returncode == 1
    assert f"Port {server.port}" in busy.stderr and "already in use" in busy.stderr
    assert "Traceback" not in busy.stderr
    assert len(busy.stderr.strip().splitlines()) == 1


def test_sigterm_stops_the_server_cleanly(server_factory):
    live = server_factory()
    assert requests.get(f"{live.url}/healthz", timeout=10).json() == {"ok": True}
    assert live.stop() == 0
    assert "Traceback" not in live.stderr()


def test_every_accepted_socket_gets_tcp_nodelay():
    import gevent
    from gevent import socket as gsocket
    from gevent.pywsgi import WSGIHandler

    from transports.server import ChatlabServer

    seen = []

    class Probe(WSGIHandler):
        def handle(self) -> None:
            seen.append(self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = ChatlabServer(("127.0.0.1", 0), lambda env, start: [], handler_class=Probe, log=None)
    server.start()
    try:
        client = gsocket.create_connection(server.address)
        with gevent.Timeout(10):
            while not seen:
                gevent.sleep(0.01)
        client.close()
    finally:
        server.stop()
    assert seen == [1]


def test_wire_bytes_include_headers_and_are_charged_to_the_transport(server, people):
    room, (alice, bob) = people(server, "alice", "bob")
    before = server.metrics()["transports"]
    empty = bob.get("/api/poll", params={"since": bob.cursor})
    declared = {TRANSPORT_HEADER: "long_poll"}
    alice.send_json({"room": room, "text": "counted"}, headers=declared)
    full = bob.get("/api/poll", params={"since": bob.cursor})
    after = server.metrics()["transports"]

    def grew(transport: str, field: str) -> int:
        return after[transport][field] - before[transport][field]

    assert grew("short_poll", "requests") >= 2
    assert grew("short_poll", "empty_polls") >= 1
    assert grew("short_poll", "polls") >= 2
    assert grew("short_poll", "delivered") >= 1
    # the request line, headers and body both ways: more than the bodies alone
    assert grew("short_poll", "bytes_out") > len(empty.content) + len(full.content)
    assert grew("short_poll", "bytes_in") > 2 * len("GET /api/poll HTTP/1.1\r\n")
    assert grew("long_poll", "requests") >= 1 and grew("long_poll", "bytes_in") > 0


def test_open_connections_and_websocket_bytes_are_counted_while_open(server, people):
    room, (alice, bob) = people(server, "alice", "bob")
    receiver = RECEIVERS[Transport.WEBSOCKET](bob, bob.cursor)
    try:
        before = server.metrics()["transports"]
        alice.say(room=room, text="x" * 1000)
        receiver.receive(1)
        during = server.metrics()["transports"]
    finally:
        receiver.close()
    assert during["websocket"]["open"] >= 1
    assert during["websocket"]["bytes_out"] - before["websocket"]["bytes_out"] >= 1000


def test_polls_count_poll_answers_and_not_sends(app, app_people):
    room, (alice,) = app_people("alice")
    counters = app.extensions["chatlab"].metrics.transports
    before = {t: counters[t].polls for t in ("short_poll", "long_poll")}
    alice.get("/api/poll")
    alice.get("/api/longpoll", params={"timeout": "0"})
    alice.send(room=room, text="not a poll", headers={TRANSPORT_HEADER: "short_poll"})
    assert counters["short_poll"].polls == before["short_poll"] + 1
    assert counters["long_poll"].polls == before["long_poll"] + 1


def test_a_session_sees_the_bytes_its_own_traffic_cost(server, people):
    _, (alice,) = people(server, "alice")
    first = alice.get("/api/session").json()["wire"]
    second = alice.get("/api/session").json()["wire"]
    assert first == second  # asking is free
    alice.get("/api/poll")
    third = alice.get("/api/session").json()["wire"]
    assert third["requests"] == first["requests"] + 1
    assert third["bytes_in"] > first["bytes_in"] and third["bytes_out"] > first["bytes_out"]


def test_prometheus_text_and_process_usage(server):
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    for transport in Transport:
        assert f'chatlab_requests_total{{transport="{transport}"}}' in text
        assert f'chatlab_bytes_out_total{{transport="{transport}"}}' in text
    assert "chatlab_process_cpu_seconds_total" in text
    process = server.metrics()["process"]
    assert process["cpu_seconds"] > 0 and process["rss_bytes"] > 10_000_000


def test_the_serving_process_freezes_its_start_and_collects_garbage_less_often(server):
    # Python's default (700) made a collection every ~0.2 s under 1,000 long polls: the
    # figures are in lab/collector.py
    process = server.metrics()["process"]
    assert process["gc_threshold"] == list(COLLECTOR_THRESHOLDS)
    assert process["gc_threshold"][0] > 700
    assert process["gc_frozen"] > 10_000  # the app, Flask, the tables loaded at start


def test_a_session_idle_past_its_expiry_frees_its_name(server_factory):
    live = server_factory(SESSION_EXPIRY=0.5, HOUSEKEEPING_INTERVAL=0.1)
    first = Api(live.url, "forgetful")
    for _ in range(200):  # bounded: expiry runs every 10 housekeeping rounds (1 s)
        again = requests.post(f"{live.url}/api/session", json={"name": "forgetful"}, timeout=10)
        if again.status_code == 201:
            break
        assert again.status_code == 409
        time.sleep(0.05)
    first.close()
    assert again.status_code == 201
    assert first.get("/api/poll").status_code == 401
