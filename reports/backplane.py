"""What the Redis backplane costs per message: each Redis run against the memory run of the
same transport under the same load, in CPU (chatlab's processes, and Redis's own) and in
delivery latency. Nothing when the sweep ran no Redis backend (`chatlab bench --backend
memory,redis --workers 1,2` makes the rows)."""

from lab.results import RunRow
from lab.servers import CHATLAB


def _us(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} µs"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} ms"


def backplane_cost(rows: list[RunRow]) -> list[str]:
    """One sentence per Redis run that has a memory run to compare with."""
    chatlab = [r for r in rows if r.server == CHATLAB.name and r.valid]
    memory = {(r.load, r.transport): r for r in chatlab if r.backend == "memory"}
    lines = []
    for row in sorted(
        (r for r in chatlab if r.backend == "redis"),
        key=lambda r: (r.transport, r.users, r.workers),
    ):
        base = memory.get((row.load, row.transport))
        if base is None or row.server_cpu_per_msg_us is None:
            continue
        total = row.server_cpu_per_msg_us + (row.redis_cpu_per_msg_us or 0.0)
        extra = (
            ""
            if base.server_cpu_per_msg_us is None
            else f", {total - base.server_cpu_per_msg_us:+,.1f} µs against the memory backend"
        )
        cores = f"on cores {row.server_cpus}" if row.server_cpus else "unpinned"
        lines.append(
            f"{row.transport}, {row.users} users ({row.workload}), Redis with {row.workers} "
            f"worker(s) {cores}, sharing them with redis-server: "
            f"{_us(row.server_cpu_per_msg_us)} of chatlab CPU and "
            f"{_us(row.redis_cpu_per_msg_us)} of Redis CPU per delivered message, "
            f"{_us(total)} in all (memory backend: {_us(base.server_cpu_per_msg_us)}{extra}); "
            f"latency p50 {_ms(row.latency_p50_ms)}, p99 {_ms(row.latency_p99_ms)} "
            f"(memory: p50 {_ms(base.latency_p50_ms)}, p99 {_ms(base.latency_p99_ms)})."
        )
    if lines and any(r.workers > 1 for r in chatlab if r.backend == "redis"):
        lines.append(
            "Several workers share the server's cores (the sweep pins the server side, workers "
            "and redis-server alike, to the cores named): on one core they show what the "
            "backplane costs, not what more cores would gain."
        )
    return lines
