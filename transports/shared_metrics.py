"""Metrics summed over every process serving one chat through Redis.

Each process keeps its counters as plain integers (transports/metrics.py: nothing on the hot
path changes) and publishes a snapshot of them to Redis every PUBLISH_EVERY seconds, and at
once when it answers `/api/metrics` or `/metrics`. An answer sums its own fresh counters with
the other live processes' latest snapshots (at most PUBLISH_EVERY old), and still says which
process served it (`process`); `processes` lists each live one, and `redis` gives the Redis
server's own CPU time and memory. A process that stops
publishing drops out after SNAPSHOT_TTL seconds.

Keys: `<prefix>metrics:<process>` (a JSON snapshot, expiring) and `<prefix>metrics:live`
(the set of processes that published one).
"""

import json
from typing import Any

import redis
from prometheus_client.registry import CollectorRegistry

from .metrics import Metrics, _Collector

PUBLISH_EVERY = 0.5  # seconds
SNAPSHOT_TTL = 5  # seconds


def _keys(chat: Any) -> tuple[str, str]:
    return f"{chat.prefix}metrics:{chat.process}", f"{chat.prefix}metrics:live"


def publish(chat: Any, snapshot: dict[str, Any]) -> None:
    key, live = _keys(chat)
    pipe = chat.redis.pipeline(transaction=False)
    pipe.set(key, json.dumps(snapshot), ex=SNAPSHOT_TTL)
    pipe.sadd(live, chat.process)
    pipe.execute()


def combined_snapshot(chat: Any, metrics: Metrics) -> dict[str, Any]:
    """This process's snapshot with `transports` summed over every live process and
    `processes` listing each; this process's alone if Redis cannot be reached."""
    own = metrics.snapshot()
    try:
        publish(chat, own)
        others = _others(chat)
    except redis.RedisError:
        return {**own, "processes": [_describe(chat.process, own)]}
    combined = {name: dict(counts) for name, counts in own["transports"].items()}
    for snapshot in others.values():
        for name, counts in snapshot["transports"].items():
            total = combined.setdefault(name, dict.fromkeys(counts, 0))
            for field, value in counts.items():
                total[field] = total.get(field, 0) + value
    processes = [_describe(chat.process, own)]
    processes += [_describe(process, snapshot) for process, snapshot in others.items()]
    processes.sort(key=lambda p: (p["host"], p["pid"]))
    return {"transports": combined, "process": own["process"], "processes": processes,
            "redis": _redis_usage(chat)}  # fmt: skip


def _redis_usage(chat: Any) -> dict[str, float | int] | None:
    """The Redis server's own CPU time and memory (INFO), what the backplane costs there."""
    try:
        info = chat.redis.info()
    except redis.RedisError:
        return None
    cpu = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    return {"cpu_seconds": cpu, "used_memory_bytes": int(info["used_memory"]),
            "pid": int(info["process_id"])}  # fmt: skip


def _others(chat: Any) -> dict[str, dict[str, Any]]:
    key, live = _keys(chat)
    members = [m.decode() for m in chat.redis.smembers(live) if m.decode() != chat.process]
    if not members:
        return {}
    snapshots = chat.redis.mget([f"{chat.prefix}metrics:{m}" for m in members])
    gone = [m for m, s in zip(members, snapshots, strict=True) if s is None]
    if gone:
        chat.redis.srem(live, *gone)
    return {m: json.loads(s) for m, s in zip(members, snapshots, strict=True) if s is not None}


def _describe(process: str, snapshot: dict[str, Any]) -> dict[str, Any]:
    usage = snapshot["process"]
    counts = snapshot["transports"].values()
    return {
        "host": process.split(":")[0],
        **usage,
        "requests": sum(c["requests"] for c in counts),
        "open": sum(c["open"] for c in counts),
    }


class CombinedView:
    """What the Prometheus collector reads (`snapshot()`), summed over the processes."""

    def __init__(self, chat: Any, metrics: Metrics) -> None:
        self._chat = chat
        self._metrics = metrics

    def snapshot(self) -> dict[str, Any]:
        return combined_snapshot(self._chat, self._metrics)


def prometheus_registry(chat: Any, metrics: Metrics) -> CollectorRegistry:
    """`/metrics` summed over the processes: the collector of metrics.py, over the sums."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(CombinedView(chat, metrics)))  # type: ignore[arg-type]
    return registry


def publish_forever(chat: Any, metrics: Metrics, sleep: Any) -> None:
    while True:
        try:
            publish(chat, metrics.snapshot())
        except redis.RedisError:
            pass  # Redis is away; the subscriber says so
        sleep(PUBLISH_EVERY)
