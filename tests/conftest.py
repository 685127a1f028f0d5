"""Fixtures: live chatlab servers in their own processes, and Debian's Chromium for Playwright."""

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_names = itertools.count(1)
# The shared server and app serve every test of a run, all from 127.0.0.1: more sessions and
# rooms from one address than a class's server allows (docs/PROTOCOL.md, "Settings").
EVERY_TEST_FROM_ONE_ADDRESS = {
    "MAX_SESSIONS": 100_000,
    "MAX_SESSIONS_PER_CLIENT": 100_000,
    "MAX_ROOMS": 100_000,
    "MAX_ROOMS_PER_CLIENT": 100_000,
}


def start_server(tmp_dir: Path, config: dict[str, Any] | None = None) -> ServerProcess:
    """`chatlab serve --port 0` in a subprocess, with CHATLAB_* overrides; waits until ready."""
    return ServerProcess(config, stderr=tmp_dir / f"server-{next(_names)}.stderr")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server with the default configuration, shared by the whole run (but for the bounds
    on what one address may hold: every test's users come from 127.0.0.1)."""
    live = start_server(tmp_path_factory.mktemp("server"), EVERY_TEST_FROM_ONE_ADDRESS)
    yield live
    live.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator:
    """Start servers with their own configuration; each is stopped after the test."""
    started: list[ServerProcess] = []

    def start(**config: Any) -> ServerProcess:
        live = start_server(tmp_path, config)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def people() -> Iterator:
    """`people(server, "alice", "bob")`: logged-in users (unique names) in a new room of their
    own; returns (room, [Api, ...]). Their HTTP sessions are closed after the test."""
    from clients import Api, unique

    made: list[Api] = []

    def make(live: ServerProcess, *prefixes: str) -> tuple[str, list[Api]]:
        room = unique("room")
        users = [Api(live.url, unique(prefix)) for prefix in prefixes]
        made.extend(users)
        for user in users:
            user.join(room)
        return room, users

    yield make
    for user in made:
        user.close()


@pytest.fixture(scope="session")
def app() -> Any:
    """The chat app in this process with the default configuration (but for the bounds on one
    address, as the `server` fixture's), served by no server and shared by the whole run (as
    `server` is): for what needs no socket, through `app.test_client()`. Its gevent lock and
    events work in a process that gevent has not monkey-patched (test_bad_input checks that
    none is)."""
    from transports import create_app

    return create_app(EVERY_TEST_FROM_ONE_ADDRESS)


@pytest.fixture
def app_people(app: Any) -> Any:
    """`app_people("alice", "bob")`: like `people`, in the `app` fixture's app; returns
    (room, [AppUser, ...])."""
    from clients import AppUser, unique

    def make(*prefixes: str) -> tuple[str, list[AppUser]]:
        room = unique("room")
        users = [AppUser(app, unique(prefix)) for prefix in prefixes]
        for user in users:
            user.join(room)
        return room, users

    return make


# --- report ---
# Synthetic sweeps for the report's tests: made-up, round numbers chosen so that ratios can
# be checked by hand; every run id starts with "synthetic" so none is mistaken for a result.


def synthetic_row(transport: str, users: int, **fields: Any) -> Any:
    """A row of chatlab's server over `transport`, or of another `server=` over it."""
    from lab.results import RunRow
    from lab.servers import CHATLAB

    server = fields.get("server", CHATLAB.name)
    what = transport if server == CHATLAB.name else server
    values: dict[str, Any] = {
        "run_id": f"synthetic-{what}-{fields.get('workload', 'chat')}-{users}",
        "transport": transport,
        "workload": "chat",
        "users": users,
        "room_size": 10,
        "send_interval_s": 5.0,
        "poll_interval_s": 1.0,
        "long_poll_timeout_s": 25.0,
        "header_profile": "minimal",
        "duration_s": 10.0,
        "started_at": "2000-01-01T00:00:00Z",
        "ended_at": "2000-01-01T00:00:10Z",
    }
    values.update(fields)
    return RunRow(**values)


def synthetic_chat_rows(users_levels: tuple[int, ...] = (10, 40)) -> list[Any]:
    """Quick-sweep-shaped rows: the chat workload over four transports at two user counts."""
    rows = []
    for users in users_levels:
        delivered = users * 18  # 10 s, a message per user every 5 s, 9 recipients each
        common = {"sent": users * 2, "expected": delivered, "delivered": delivered}
        common["payload_bytes_per_msg"] = 150.0
        rows += [
            synthetic_row("short_poll", users, **common, latency_p50_ms=501.0,
                          latency_p95_ms=951.0, latency_p99_ms=991.0, latency_max_ms=1001.0,
                          latency_mean_ms=501.0, requests=users * 12, requests_per_s=users * 1.2,
                          empty_polls=users * 6, empty_poll_share=0.6,
                          wire_bytes_in=delivered * 300, wire_bytes_out=delivered * 450,
                          wire_bytes_in_per_msg=300.0, wire_bytes_out_per_msg=450.0,
                          wire_bytes_per_msg=750.0, server_cpu_per_msg_us=200.0),
            synthetic_row("long_poll", users, **common, latency_p50_ms=2.0, latency_p95_ms=4.0,
                          latency_p99_ms=6.0, latency_max_ms=9.0, latency_mean_ms=2.5,
                          requests=users * 15, requests_per_s=users * 1.5,
                          wire_bytes_in_per_msg=200.0, wire_bytes_out_per_msg=350.0,
                          wire_bytes_per_msg=550.0, server_cpu_per_msg_us=150.0,
                          open_connections=users, rss_per_connection_bytes=40960.0),
            synthetic_row("sse", users, **common, latency_p50_ms=1.5, latency_p95_ms=2.5,
                          latency_p99_ms=3.0, latency_max_ms=5.0, latency_mean_ms=1.6,
                          requests=users, requests_per_s=users / 10,
                          wire_bytes_in_per_msg=30.0, wire_bytes_out_per_msg=200.0,
                          wire_bytes_per_msg=230.0, server_cpu_per_msg_us=60.0,
                          open_connections=users, rss_per_connection_bytes=20480.0),
            synthetic_row("websocket", users, **common, latency_p50_ms=1.0, latency_p95_ms=2.0,
                          latency_p99_ms=3.0, latency_max_ms=4.0, latency_mean_ms=1.2,
                          requests=users, requests_per_s=users / 10,
                          wire_bytes_in_per_msg=20.0, wire_bytes_out_per_msg=182.0,
                          wire_bytes_per_msg=202.0, server_cpu_per_msg_us=50.0,
                          open_connections=users, rss_per_connection_bytes=16384.0),
        ]  # fmt: skip
    return rows


def synthetic_network_rows(rtt: float = 100.0, users: int = 40) -> list[Any]:
    """Rows of runs through a link of `rtt` ms (chat over four transports, a new connection
    per poll, long polling under bursts), with numbers that follow theory, to go beside
    `synthetic_chat_rows()` (whose WebSocket run at 40 users is the loopback part: 1 ms)."""
    half = rtt / 2
    link = {"link": True, "rtt_ms": rtt, "link_bytes_vs_server_percent": 0.5,
            "link_bytes_up": 1000, "link_bytes_down": 5000, "link_connections": 0,
            "link_cpu_percent": 3.0, "link_cpu_per_msg_us": 200.0,
            "generator_cpu_percent": 10.0, "generator_side_cpu_percent": 13.0}  # fmt: skip
    chat = {"users": users, "delivered": 500, "window_delivered": 500, **link}

    def way(transport: str, out: float, **more: Any) -> Any:
        fields = {**chat, **more}
        name = f"synthetic-{transport}-{fields.get('workload', 'chat')}-rtt{rtt:g}"
        name += "-newconn" if fields.get("new_connection_per_request") else ""
        return synthetic_row(transport, fields.pop("users"), run_id=name,
                             from_server_p50_ms=out, from_server_p99_ms=out * 1.5,
                             latency_p50_ms=out + half, **fields)  # fmt: skip

    burst = {"workload": "burst", "users": 10, "room_size": 5, "burst_size": 10}
    return [
        way("short_poll", 500 + half + 1, poll_response_p50_ms=rtt + 5, polls=400),
        way("short_poll", 500 + half + 3, poll_response_p50_ms=2 * rtt + 8,
            new_connection_per_request=True, link_connections=400),
        way("long_poll", half + 2),
        way("sse", half + 1),
        way("websocket", half + 1),
        way("long_poll", half + 5, from_server_max_ms=3 * half + 9, **burst),
        way("long_poll", 3 * half, from_server_max_ms=3 * half + rtt + 9,
            new_connection_per_request=True, **burst),
    ]  # fmt: skip


def synthetic_peer_rows(chat_rows: list[Any], users: int = 40) -> list[Any]:
    """Flask-SocketIO's long polling and WebSocket beside `chat_rows` at `users`, paired with
    chatlab's runs there as the sweep pairs them: chatlab spends 0.75× its CPU per message
    over long polling (150 against 200 µs) and 0.5× over WebSocket (50 against 100 µs)."""
    from lab.servers import FLASK_SOCKETIO

    peers = []
    for transport, cpu in (("long_poll", 200.0), ("websocket", 100.0)):
        ours = next(r for r in chat_rows if (r.transport, r.users) == (transport, users))
        peer = synthetic_row(transport, users, server=FLASK_SOCKETIO.name,
                             run_id=f"synthetic-flask_socketio-{transport}-chat-{users}",
                             delivered=ours.delivered, sent=ours.sent, expected=ours.expected,
                             latency_p50_ms=ours.latency_p50_ms * 2,
                             latency_p99_ms=ours.latency_p99_ms * 2,
                             wire_bytes_per_msg=ours.wire_bytes_per_msg, wire_counted_at="client",
                             server_cpu_per_msg_us=cpu)  # fmt: skip
        ours.peer_run_id = peer.run_id
        ours.server_cpu_per_msg_vs_peer = ours.server_cpu_per_msg_us / cpu
        peers.append(peer)
    return peers


def synthetic_capacity_rows() -> list[Any]:
    """Capacity runs: chatlab's long polling held 1,000 (its core full at 2,000), its
    WebSocket at least 2,000 (the generator ran out at 4,000), Flask-SocketIO's long polling
    500 (p99 over the limit at 1,000)."""
    from lab.results import CapacityRow

    def step(users: int, cpu: float, counted: bool = True, why: tuple = (),
             generator: float = 30.0) -> dict:  # fmt: skip
        return {"users": users, "counted": counted, "reasons": list(why),
                "generator_limited": generator >= 85, "p50_ms": 5.0, "p99_ms": 40.0,
                "server_cpu_percent": cpu, "generator_cpu_percent": generator,
                "deliveries_per_s": users * 1.8, "lost": 0}  # fmt: skip

    def run(server: str, transport: str, users: int, stopped_by: str, steps: list) -> Any:
        return CapacityRow(
            run_id=f"synthetic-{server}-{transport}-capacity", server=server,
            transport=transport, workload="chat", room_size=10, send_interval_s=5.0,
            header_profile="minimal", started_at="2000-01-01T00:00:00Z",
            ended_at="2000-01-01T00:01:00Z", plan=[500, 1000, 2000, 4000], hold_s=4.0,
            settle_s=5.0, p99_limit_ms=250.0, users=users, at_least=stopped_by != "server",
            stopped_by=stopped_by, reason="; ".join(steps[-1]["reasons"]),
            sentence=f"{users:,} users ({stopped_by})", steps=steps, server_pinned=True,
        )  # fmt: skip

    full = ("the server's core full (97%)",)
    return [
        run("chatlab", "long_poll", 1000, "server",
            [step(500, 40.0), step(1000, 80.0), step(2000, 97.0, False, full)]),
        run("chatlab", "websocket", 2000, "generator",
            [step(500, 5.0), step(1000, 10.0), step(2000, 20.0),
             step(4000, 40.0, False, ("the load generator at 90% of its core (limit 85%)",),
                  generator=90.0)]),
        run("flask_socketio", "long_poll", 500, "server",
            [step(500, 60.0), step(1000, 90.0, False, ("p99 400 ms, over 250 ms",))]),
    ]  # fmt: skip


def write_synthetic_sweep(folder: Path, rows: list[Any], samples: bool = True,
                          capacity: list[Any] | None = None,
                          environment: dict[str, Any] | None = None) -> Path:  # fmt: skip
    """A sweep's folder as `chatlab bench` writes it, with raw samples for each run."""
    import random
    from array import array

    from lab.results import write_summary
    from lab.run_files import write_latencies
    from lab.servers import client_name

    made_up = {"synthetic": True, "note": "made up by tests/conftest.py", **(environment or {})}
    write_summary(folder, made_up, rows, capacity)
    if samples:
        rng = random.Random(7)
        for row in rows:
            if row.latency_p50_ms is None:
                continue
            run_dir = folder / row.run_id
            run_dir.mkdir(parents=True, exist_ok=True)
            values = array("f", (row.latency_p50_ms * rng.uniform(0.2, 1.8) for _ in range(200)))
            write_latencies(run_dir, client_name(row.server, row.transport), values)
    return folder


@pytest.fixture
def synthetic_sweep(tmp_path: Path) -> Path:
    """A quick-sweep-shaped sweep folder with made-up numbers and raw samples, Flask-SocketIO
    beside chatlab at 40 users, and capacity runs."""
    rows = synthetic_chat_rows()
    return write_synthetic_sweep(tmp_path / "results" / "20000101T000000Z",
                                 rows + synthetic_peer_rows(rows),
                                 capacity=synthetic_capacity_rows())  # fmt: skip


# --- browser pages ---

ARTIFACTS = ROOT / "test-artifacts"
VIEWPORT = {"width": 1600, "height": 900}  # a projector's shape, for the screenshots


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-playwright's own `base_url`, a fixture defined as an instance method,
    which pytest 9 deprecates (an error under filterwarnings=error). Contexts get the live
    server's URL from `browser_page` instead."""
    return None


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where browser tests leave their screenshots (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def browser_page(new_context: Any, server: ServerProcess) -> Iterator[Any]:
    """`open_page()` → a page in a fresh browser context (its own cookies) on the live server;
    `open_page(locale="zh-CN")` passes options to the context.

    Uncaught errors and unhandled rejections in any page's JavaScript fail the test."""
    errors: list[str] = []

    def open_page(**options: Any) -> Any:
        context = new_context(base_url=server.url, viewport=VIEWPORT, **options)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    assert not errors, "JavaScript errors in the page:\n" + "\n".join(errors)


@pytest.fixture
def chat_user(browser_page: Any, server: ServerProcess) -> Any:
    """`chat_user("alice")` → a page logged in through the login form under a unique name,
    on /chat with its transport live."""
    from clients import unique
    from playwright.sync_api import expect

    def login(prefix: str) -> Any:
        page = browser_page()
        page.goto("/")
        page.fill("#name", unique(prefix))
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{server.url}/chat")
        expect(page.locator("#transport-status")).to_have_attribute("data-state", "live")
        return page

    return login
