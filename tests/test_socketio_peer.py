"""The Flask-SocketIO peer server (loadtests/socketio_server.py) in its own process, checked
with python-socketio's own client, with raw Engine.IO requests, and with the load generator's
Socket.IO clients (in a child process, as they need gevent's patching)."""

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from clients import unique
from test_locust_runs import SMALL, assert_complete, locust

from lab.server_process import ServerProcess
from lab.servers import FLASK_SOCKETIO, SOCKETIO_POLLING, SOCKETIO_WEBSOCKET
from loadtests.clients import socketio_packets as sio

HERE = Path(__file__).resolve().parent
MODES = [SOCKETIO_POLLING, SOCKETIO_WEBSOCKET]
ENGINEIO = {SOCKETIO_POLLING: "polling", SOCKETIO_WEBSOCKET: "websocket"}


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    stderr = tmp_path_factory.mktemp("peer") / "peer.stderr"
    live = ServerProcess(stderr=stderr, module=FLASK_SOCKETIO.module)
    live.wait_healthy()
    yield live
    live.stop()


def login(peer: ServerProcess, name: str) -> str:
    answer = requests.post(f"{peer.url}/api/session", json={"name": name}, timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == name
    return answer.json()["token"]


class Member:
    """A user on python-socketio's own client, collecting its `message` events."""

    def __init__(self, peer: ServerProcess, prefix: str, transport: str) -> None:
        self.name = unique(prefix)
        self.client = socketio.Client(reconnection=False)
        self.messages: list[dict[str, Any]] = []
        self.arrived = threading.Condition()
        self.client.on("message", self._message)
        self.client.connect(peer.url, auth={"token": login(peer, self.name)},
                            transports=[ENGINEIO[transport]], wait_timeout=10)  # fmt: skip

    def _message(self, message: dict[str, Any]) -> None:
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def call(self, event: str, data: Any) -> dict[str, Any]:
        return self.client.call(event, data, timeout=10)

    def wait_for(self, msg_id: int) -> list[int]:
        with self.arrived:
            self.arrived.wait_for(lambda: msg_id in self.ids(), timeout=10)
        return self.ids()

    def ids(self) -> list[int]:
        return [message["id"] for message in self.messages]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def members(peer: ServerProcess) -> Iterator:
    made: list[Member] = []

    def make(*prefixes: str, transport: str = SOCKETIO_WEBSOCKET) -> list[Member]:
        made.extend(Member(peer, prefix, transport) for prefix in prefixes)
        return made[-len(prefixes) :]

    yield make
    for member in made:
        member.close()


def test_a_name_is_held_once_and_must_be_a_name(peer):
    name = unique("held")
    login(peer, name)
    again = requests.post(f"{peer.url}/api/session", json={"name": name}, timeout=10)
    assert again.status_code == 409
    assert again.json()["error"] == "name_taken" and again.json()["detail"]
    for bad in ({"name": "no spaces"}, {"name": 7}, [], "not json"):
        answer = requests.post(f"{peer.url}/api/session", json=bad, timeout=10)
        assert answer.status_code == 400, bad
        assert answer.json()["error"] == "bad_request"


def test_a_connection_without_a_known_token_is_refused_in_the_protocols_error_format(peer):
    # by hand, over Engine.IO long polling: the client's packet codec against the real server
    base = f"{peer.url}/socket.io/?EIO=4&transport=polling"
    with requests.Session() as http:
        opened = sio.read(sio.split(http.get(base, timeout=10).content)[0])
        assert isinstance(opened, sio.Opened)
        assert (opened.ping_interval, opened.ping_timeout) == (25, 20)  # python-engineio's
        session = f"{base}&sid={opened.sid}"
        assert http.post(session, data=sio.connect({"token": "nobody's"}), timeout=10).ok
        packets = [sio.read(p) for p in sio.split(http.get(session, timeout=10).content)]
    refused = [p for p in packets if isinstance(p, sio.Refused)]
    assert refused, packets
    assert refused[0].data["data"]["error"] == "unauthorized"
    assert refused[0].data["data"]["detail"]


@pytest.mark.parametrize("transport", MODES)
def test_every_member_gets_each_room_message_once_with_the_senders_name(members, transport):
    alice, bob, carol = members("alice", "bob", "carol", transport=transport)
    room = unique("room")
    assert alice.call("join", {"room": room}) == {"room": room, "members": [alice.name]}
    bob.call("join", {"room": room})
    joined = carol.call("join", {"room": room})
    assert joined["members"] == sorted([alice.name, bob.name, carol.name])
    sent = time.time()
    ack = alice.call("send", {"room": room, "text": "hi", "cid": "a-1", "ts": sent,
                              "from": "mallory"})  # fmt: skip
    for member in (alice, bob, carol):  # the sender's own copy included
        assert member.wait_for(ack["id"]) == [ack["id"]]
        message = member.messages[0]
        assert message["from"] == alice.name  # the session's name, never the payload's
        assert (message["room"], message["to"], message["text"]) == (room, None, "hi")
        assert (message["cid"], message["ts"]) == ("a-1", sent)
        assert sent <= message["at"] <= time.time()


def test_a_private_message_reaches_the_two_of_them_only(members):
    alice, bob, carol = members("alice", "bob", "carol")
    room = unique("room")
    for member in (alice, bob, carol):
        member.call("join", {"room": room})
    private = alice.call("send", {"to": bob.name, "text": "psst", "cid": "a-1"})["id"]
    after = alice.call("send", {"room": room, "text": "all", "cid": "a-2"})["id"]
    assert alice.wait_for(after) == [private, after]
    assert bob.wait_for(after) == [private, after]
    assert bob.messages[0]["to"] == bob.name and bob.messages[0]["room"] is None
    # one connection delivers in order: carol's copy of the later message came without it
    assert carol.wait_for(after) == [after]


def test_sends_that_break_a_rule_are_answered_with_the_error_and_harm_nobody(members):
    alice, bob = members("alice", "bob")
    room, elsewhere = unique("room"), unique("room")
    alice.call("join", {"room": room})
    bob.call("join", {"room": elsewhere})
    refusals = {
        "not_found": {"room": unique("never"), "text": "hi"},
        "forbidden": {"room": elsewhere, "text": "hi"},
        "no_such_user": {"to": unique("nobody"), "text": "hi"},
        "bad_request": {"room": room, "text": ""},
        "too_large": {"room": room, "text": "x" * 4097},
    }
    for code, data in refusals.items():
        answer = alice.call("send", data)
        assert answer["error"] == code and answer["detail"], (code, answer)
    assert alice.call("join", {"room": "no spaces"})["error"] == "bad_request"
    ok = alice.call("send", {"room": room, "text": "still here"})["id"]
    assert alice.wait_for(ok) == [ok]


def test_the_metrics_count_per_transport_and_read_the_servers_own_process(peer, members):
    def metrics() -> dict[str, Any]:
        return requests.get(f"{peer.url}/api/metrics", timeout=10).json()

    before = metrics()
    assert before["process"]["pid"] == peer.process.pid
    assert before["process"]["cpu_seconds"] > 0 and before["process"]["rss_bytes"] > 1 << 20
    (polling,) = members("polling", transport=SOCKETIO_POLLING)
    (websocket,) = members("websocket", transport=SOCKETIO_WEBSOCKET)
    room = unique("room")
    polling.call("join", {"room": room})
    websocket.call("join", {"room": room})
    last = polling.call("send", {"room": room, "text": "hi"})["id"]
    websocket.wait_for(last)
    polling.wait_for(last)
    after = metrics()

    def grown(transport: str, key: str) -> int:
        return after["transports"][transport][key] - before["transports"][transport][key]

    for transport in MODES:
        assert grown(transport, "open") == 1
        assert grown(transport, "delivered") == 1
    assert grown(SOCKETIO_WEBSOCKET, "requests") == 1  # one connection
    assert grown(SOCKETIO_POLLING, "requests") >= 3  # handshake, connect, polls, the send
    assert grown(SOCKETIO_POLLING, "polls") >= 1


def probe(peer: ServerProcess, mode: str, profile: str = "minimal") -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(HERE / "socketio_client_probe.py"), peer.url,
                           mode, profile], capture_output=True, text=True, timeout=60,
                          cwd=HERE.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("profile", ["minimal", "browser"])
@pytest.mark.parametrize("mode", MODES)
def test_the_load_generators_client_speaks_socketio_to_the_peer(peer, mode, profile):
    outcome = probe(peer, mode, profile)
    first, private, last = outcome["ids"]
    assert first < private < last
    names, received = outcome["names"], outcome["received"]
    assert [m["id"] for m in received["alice"]] == [first, private, last]
    assert [m["id"] for m in received["bob"]] == [first, private, last]
    assert [m["id"] for m in received["carol"]] == [first, last]
    for message in received["bob"]:
        assert message["from"] == names["alice"]
        assert message["latency_ms"] > 0
    assert received["bob"][1]["to"] == names["bob"]
    # each size is that of the message's JSON as python-socketio wrote it
    for message, size in zip(received["bob"], outcome["sizes"]["bob"], strict=True):
        clean = {k: v for k, v in message.items() if k != "latency_ms"}
        assert size == len(json.dumps(clean, separators=(",", ":")))
    assert outcome["refused"].startswith("not_found")
    failed = [r for r in outcome["requests"] if r["error"] is not None]
    assert len(failed) == 1 and failed[0]["name"] == f"{mode} send"  # carol's refused send
    assert {r["name"] for r in outcome["requests"]} >= {f"{mode} join", f"{mode} send"}
    wire = outcome["wire"]
    assert wire["uncounted"] == 0 and wire["sockets"] >= 3
    assert wire["bytes_in"] > 3 * 200 and wire["bytes_out"] > 3 * 100


@pytest.mark.parametrize("mode", MODES)
def test_a_short_locust_run_over_each_mode_delivers_everything(peer, tmp_path, mode):
    run = locust(peer.url, [f"{mode}.py"], tmp_path, *SMALL, "--private-share=0.5")
    assert run.exit_code == 0, run.output[-3000:]
    counts = assert_complete(run, mode)
    assert counts["unexpected"] == counts["reconnects"] == counts["send_failures"] == 0
    assert run.row("deliver", mode)["num_requests"] == counts["delivered"]
    assert run.row("SIO", f"{mode} send")["num_requests"] == counts["sent"]
    assert sum(s["num_failures"] for s in run.stats) == 0
    # rooms of 3: a room message owes 3 deliveries, a private one 2 (half of them went so)
    assert 2 * counts["sent"] < counts["expected"] < 3 * counts["sent"]
    wire = json.loads(next(tmp_path.glob("client-wire-*.json")).read_text())
    assert wire["counted_at"] == "client" and wire["uncounted"] == 0
    assert wire["bytes_in"] > counts["payload_bytes"]  # every message, and its framing
    assert "wire bytes counted at the client" in run.output
