"""`chatlab serve --workers 2 --redis URL`: requests really spread over both workers, one
chat across them, metrics summed over them, and a worker killed mid-traffic costing its
clients nothing but a reconnection."""

import os
import signal
import threading
from typing import Any

import pytest
import requests
from clients import Api, WebSocketReceiver, unique, until
from conftest import EVERY_TEST_FROM_ONE_ADDRESS, redis_config, start_server


@pytest.fixture
def workers(tmp_path, redis_store) -> Any:
    config = redis_config(redis_store, {**EVERY_TEST_FROM_ONE_ADDRESS, "RATE_BURST": 1000,
                                        "RATE_PER_SECOND": 1000})  # fmt: skip
    live = start_server(tmp_path, config, workers=2)
    yield live
    live.stop()


def serving_pid(url: str) -> int:
    """The pid of the worker that answers a new connection."""
    with requests.Session() as fresh:
        return fresh.get(f"{url}/api/metrics", timeout=10).json()["process"]["pid"]


def metrics_when(server: Any, holds: Any) -> dict[str, Any]:
    """The server's metrics once `holds(metrics)` (other workers' are up to 0.5 s old)."""
    return until(lambda: (m := server.metrics()) and holds(m) and m, what="the metrics")


def user_on(url: str, pid: int, prefix: str) -> Api:
    """A logged-in user whose connection is served by the worker `pid`."""
    for _ in range(200):
        user = Api(url, unique(prefix))
        if user.get("/api/metrics").json()["process"]["pid"] == pid:
            return user
        user.close()
    raise AssertionError(f"no connection reached worker {pid} in 200 tries")


def test_requests_spread_over_both_workers_and_the_metrics_sum_them(workers):
    pids = {serving_pid(workers.url) for _ in range(40)}
    assert len(pids) == 2  # (2 ** -39 to fail by chance)
    metrics = metrics_when(workers, lambda m: len(m["processes"]) == 2)
    assert {p["pid"] for p in metrics["processes"]} == pids
    assert metrics["process"]["pid"] in pids
    # polls made on each worker are counted once, in the sum
    users = [user_on(workers.url, pid, "poller") for pid in sorted(pids)]
    before = workers.metrics()["transports"]["short_poll"]["polls"]
    for user in users:
        for _ in range(5):
            assert user.get("/api/poll").status_code == 200
    until(lambda: workers.metrics()["transports"]["short_poll"]["polls"] == before + 10,
          what="10 more polls in the sum")  # fmt: skip
    text = requests.get(f"{workers.url}/metrics", timeout=10).text
    line = next(
        x for x in text.splitlines() if x.startswith('chatlab_polls_total{transport="short_poll"}')
    )
    assert float(line.split()[-1]) >= before + 10


def test_one_chat_across_workers(workers):
    a, b = sorted({serving_pid(workers.url) for _ in range(40)})
    room = unique("room")
    alice, bob = user_on(workers.url, a, "alice"), user_on(workers.url, b, "bob")
    alice.join(room), bob.join(room)
    receiver = WebSocketReceiver(bob, bob.cursor)
    try:
        sent = [alice.say(room=room, text=f"across {i}") for i in range(5)]
        private = bob.say(to=alice.name, text="back")
        assert [m["id"] for m in receiver.receive(6)] == [*sent, private]
    finally:
        receiver.close()
    taken = requests.post(f"{workers.url}/api/session", json={"name": alice.name}, timeout=10)
    assert taken.status_code == 409  # a name is unique across workers


def test_a_worker_killed_mid_traffic_costs_its_clients_a_reconnection_and_nothing_else(workers):
    room = unique("room")
    sender = Api(workers.url, unique("sender"))
    sender.join(room)
    readers = [Api(workers.url, unique("reader")) for _ in range(10)]
    for reader in readers:
        reader.join(room)
    receivers = [WebSocketReceiver(reader, reader.cursor) for reader in readers]
    opened = metrics_when(
        workers,
        lambda m: m["transports"]["websocket"]["open"] == 10 and len(m["processes"]) == 2,
    )
    victim = max(opened["processes"], key=lambda p: p["open"])
    assert victim["open"] >= 5

    acked: list[int] = []
    killed = threading.Event()

    def send(i: int) -> None:
        for _ in range(100):  # a send cut off with its worker is sent again, same cid
            try:
                answer = sender.send(room=room, text=f"m{i}", cid=f"k{i}")
            except requests.ConnectionError:
                continue
            if answer.status_code in (200, 201):
                acked.append(answer.json()["id"])
                return
        raise AssertionError(f"m{i} was never accepted")

    for i in range(40):
        if i == 20:
            os.kill(victim["pid"], signal.SIGKILL)
            killed.set()
        send(i)
    assert len(acked) == len(set(acked)) == 40
    try:
        for receiver in receivers:
            got = receiver.receive(40, timeout=30)
            assert [m["id"] for m in got] == acked  # nothing lost, nothing doubled
            assert receiver.receive(1, timeout=0.2) == []
        assert sum(r.drops + len(r.close_codes) for r in receivers) >= victim["open"]
    finally:
        for receiver in receivers:
            receiver.close()


def test_nginx_spreads_requests_round_robin_over_both_servers(nginx_server):
    pids = [serving_pid(nginx_server.url) for _ in range(10)]
    assert len(set(pids)) == 2
    assert {s.process.pid for s in nginx_server.servers} == set(pids)


def test_the_readme_shows_the_nginx_configuration_the_tests_use():
    from nginx_proxy import CONFIG, ROOT

    readme = (ROOT / "README.md").read_text()
    shown = readme.split("```nginx\n", 1)[1].split("```", 1)[0]
    used = {line.split("#")[0].strip() for line in CONFIG.read_text().splitlines()}
    missing = [line for line in shown.splitlines() if line.strip() not in used]
    assert not missing, missing


def test_gunicorn_runs_chatlabs_worker_class_as_the_readme_says(tmp_path, redis_store):
    """The README's gunicorn command, on a free port, 2 workers."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from lab.redis_server import free_port

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "-k transports.gunicorn_worker.ChatlabWorker -w 4" in readme
    assert "--graceful-timeout 3" in readme
    assert "'transports:create_app()'" in readme
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    config = redis_config(redis_store)
    env = {**os.environ, **{f"CHATLAB_{k}": json.dumps(v) for k, v in config.items()}}
    argv = [str(gunicorn), "-k", "transports.gunicorn_worker.ChatlabWorker", "-w", "2",
            "--worker-connections", "10000", "--graceful-timeout", "3", "-b",
            f"127.0.0.1:{port}", "--no-control-socket", "transports:create_app()"]  # fmt: skip
    with open(tmp_path / "gunicorn.stderr", "w") as errors:
        process = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=errors)
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _answers(url), what="gunicorn to answer")
        metrics = metrics_when(_Url(url), lambda m: len(m["processes"]) == 2)
        assert {p["pid"] for p in metrics["processes"]} <= _children(process.pid)
        user = Api(url, unique("gunicorn"))
        room = unique("room")
        user.join(room)
        receiver = WebSocketReceiver(user, user.cursor)  # the upgrade needs chatlab's handler
        try:
            sent = user.say(room=room, text="through gunicorn")
            assert [m["id"] for m in receiver.receive(1)] == [sent]
        finally:
            receiver.close()
            user.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, (tmp_path / "gunicorn.stderr").read_text()[-2000:]


class _Url:
    def __init__(self, url: str) -> None:
        self.url = url

    def metrics(self) -> dict[str, Any]:
        return requests.get(f"{self.url}/api/metrics", timeout=10).json()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:  # not listening yet, or no worker has booted yet
        return False


def _children(pid: int) -> set[int]:
    import psutil

    return {child.pid for child in psutil.Process(pid).children()}


def test_workers_without_redis_are_refused_with_one_sentence():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CHATLAB_REDIS_URL"}
    argv = [sys.executable, "-P", "-m", "chatlab", "serve", "--workers", "2", "--port", "0"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2
    assert "--workers needs --redis URL" in done.stderr and "Traceback" not in done.stderr
