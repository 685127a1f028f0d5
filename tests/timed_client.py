"""A normal client that times its own requests, in a process of its own, while a test attacks
the server: `python timed_client.py URL INTERVAL`.

It logs in, prints "ready" once its first poll has been answered, then polls every INTERVAL
seconds, each time on a new connection (so that a server that cannot accept shows), until its
stdin closes; then it prints one JSON line: `{"samples": [[unix_time, seconds], ...],
"failures": [[unix_time, error], ...]}`.
"""

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

_TIMEOUT = 15.0
_MOST_SAMPLES = 100_000


def _poll(host: str, port: int, token: str) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=_TIMEOUT)
    try:
        connection.request("GET", "/api/poll", headers={"Authorization": f"Bearer {token}"})
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"status {answer.status}")
    finally:
        connection.close()


def main() -> None:
    url, interval = sys.argv[1], float(sys.argv[2])
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    login = http.client.HTTPConnection(host, port, timeout=_TIMEOUT)
    name = f"timed{int(time.time() * 1000) % 10**9}"
    login.request("POST", "/api/session", json.dumps({"name": name}),
                  {"Content-Type": "application/json"})  # fmt: skip
    token = json.loads(login.getresponse().read())["token"]
    login.close()

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    samples: list[list[float]] = []
    failures: list[list[object]] = []
    for _ in range(_MOST_SAMPLES):
        began = time.monotonic()
        at = time.time()
        try:
            _poll(host, port, token)
            samples.append([at, time.monotonic() - began])
        except (OSError, RuntimeError, http.client.HTTPException) as error:
            failures.append([at, repr(error)])
        if len(samples) == 1 and not failures:
            print("ready", flush=True)
        if stop.wait(max(0.0, interval - (time.monotonic() - began))):
            break
    print(json.dumps({"samples": samples, "failures": failures}), flush=True)


if __name__ == "__main__":
    main()
