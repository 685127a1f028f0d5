"""A server's own counters, read from its `/api/metrics`: chatlab's and the baseline's alike
(`{"transports": {name: counters}, "process": lab.process_usage.process_usage()}`)."""

import json
import urllib.request
from typing import Any


def read_metrics(base_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The server's metrics now; OSError or ValueError when they cannot be read."""
    with urllib.request.urlopen(f"{base_url.rstrip('/')}/api/metrics", timeout=timeout) as answer:
        return json.loads(answer.read())
