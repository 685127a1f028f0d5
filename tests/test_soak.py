"""A soak: WebSocket and long-poll clients at a steady rate against a real `chatlab serve`,
with every stream's and room's retention full, while the server's RSS is sampled. Once
retention is full nothing more should be kept: memory must stay flat."""

import json
import threading
import time

import requests
import websocket
from clients import Api, unique

MiB = 1024 * 1024
SECONDS = 36.0
WARM_UP = 12.0  # retention is full after ~3 s; the rest lets the allocator settle
RECEIVERS = 8  # of each kind
SEND_INTERVAL = 0.05  # per sender, two senders: 40 messages a second into the room


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y)."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    covariance = sum((t - mean_t) * (y - mean_y) for t, y in points)
    return covariance / sum((t - mean_t) ** 2 for t, _ in points)


def test_memory_stays_flat_once_retention_is_full(server_factory):
    server = server_factory(STREAM_RETENTION=100, ROOM_RETENTION=100, RATE_PER_SECOND=100.0)
    room = unique("soak")
    stop = threading.Event()
    delivered = {"websocket": 0, "long_poll": 0}
    errors: list[str] = []
    lock = threading.Lock()

    def count(kind: str, n: int) -> None:
        with lock:
            delivered[kind] += n

    def web_socket_reader() -> None:
        api = Api(server.url, unique("wsr"))
        api.join(room)
        url = "ws" + server.url.removeprefix("http") + "/ws"
        ws = websocket.create_connection(url, header=[f"Authorization: Bearer {api.token}"])
        ws.settimeout(5)
        try:
            while not stop.is_set():
                frame = json.loads(ws.recv())
                if frame["type"] == "message":
                    count("websocket", 1)
        except Exception as error:  # noqa: BLE001 - reported by the test below
            if not stop.is_set():
                errors.append(f"websocket: {error!r}")
        finally:
            ws.close()
            api.close()

    def long_poll_reader() -> None:
        api = Api(server.url, unique("lpr"))
        api.join(room)
        cursor = api.cursor
        try:
            while not stop.is_set():
                answer = api.get("/api/longpoll", params={"since": cursor, "timeout": 2})
                body = answer.json()
                cursor = body["cursor"]
                count("long_poll", len(body["messages"]))
        except Exception as error:  # noqa: BLE001
            errors.append(f"long poll: {error!r}")
        finally:
            api.close()

    def sender(index: int) -> None:
        api = Api(server.url, unique("sender"))
        api.join(room)
        next_at = time.monotonic()
        for n in range(int(SECONDS / SEND_INTERVAL) + 1):
            if stop.is_set():
                break
            answer = api.send(room=room, text=f"soak {index}-{n} " + "x" * 200)
            if answer.status_code != 201:
                errors.append(f"send: {answer.status_code} {answer.text}")
            next_at += SEND_INTERVAL
            stop.wait(max(0.0, next_at - time.monotonic()))
        api.close()

    def churner() -> None:
        """Sessions that come and go, as page loads do."""
        while not stop.is_set():
            session = requests.Session()
            answer = session.post(
                f"{server.url}/api/session", json={"name": unique("churn")}, timeout=10
            )
            token = answer.json()["token"]
            headers = {"Authorization": f"Bearer {token}"}
            session.post(f"{server.url}/api/rooms/{room}/join", headers=headers, timeout=10)
            session.delete(f"{server.url}/api/session", headers=headers, timeout=10)
            session.close()
            stop.wait(0.2)

    threads = [threading.Thread(target=web_socket_reader) for _ in range(RECEIVERS)]
    threads += [threading.Thread(target=long_poll_reader) for _ in range(RECEIVERS)]
    threads += [threading.Thread(target=sender, args=(i,)) for i in range(2)]
    threads.append(threading.Thread(target=churner))
    samples: list[tuple[float, float]] = []
    began = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while time.monotonic() - began < SECONDS and not errors:
            at = time.monotonic() - began
            samples.append((at, server.metrics()["process"]["rss_bytes"] / MiB))
            stop.wait(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(15)
    assert not errors, errors[:5]
    sent = SECONDS / SEND_INTERVAL * 2
    assert delivered["websocket"] > 0.8 * sent * RECEIVERS, delivered
    assert delivered["long_poll"] > 0.8 * sent * RECEIVERS, delivered
    settled = [(t, mib) for t, mib in samples if t >= WARM_UP]
    assert len(settled) >= 30
    growth = _slope(settled) * (SECONDS - WARM_UP)
    spread = max(m for _, m in settled) - min(m for _, m in settled)
    first, last = samples[0][1], samples[-1][1]
    print(f"soak: {delivered}, RSS {first:.1f} → {last:.1f} MiB, settled growth {growth:+.2f} MiB,"
          f" spread {spread:.2f} MiB")  # fmt: skip
    assert growth < 1.5, f"RSS grew {growth:.2f} MiB over the settled part: {settled}"
    assert spread < 4.0, f"RSS spread {spread:.2f} MiB once settled: {settled}"
