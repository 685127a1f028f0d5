"""The shape of a sweep's results: one row per run, shared by the sweep and the report.

Every sweep makes its own folder `<timestamp>/` under the results root (`results/` unless
told otherwise). A sweep's folder holds `summary.json` ({"environment": {...}, "rows":
[RunRow, ...], "capacity": [CapacityRow, ...]}), `summary.csv` (the run rows), and per run
`<run_id>/` with the Locust JSON and the scenario's run files (`lab.run_files`).
"""

import csv
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from chat_core import Transport

from .servers import BARE_BROADCAST, CHATLAB

# Bytes of IPv4 + TCP headers (with timestamps) per segment: the basis of the TCP/IP overhead
# *estimate*; the real number depends on options, MTU and the path.
TCPIP_HEADER_BYTES_ESTIMATE = 52
RESULTS_ROOT = Path("results")  # where sweeps make their folders unless told otherwise
SUMMARY_FILE = "summary.json"
TARGETS_FILE = "targets.json"  # the sweep's targets (loadtests/targets.py), each met or missed


@dataclass
class RunRow:
    # what ran
    run_id: str
    transport: str  # a chat_core.Transport value: what the clients spoke
    workload: str  # chat | ticker | burst | idle
    users: int
    room_size: int
    send_interval_s: float
    poll_interval_s: float
    long_poll_timeout_s: float
    header_profile: str  # minimal | browser
    duration_s: float
    started_at: str  # ISO 8601, UTC
    ended_at: str
    server: str = CHATLAB.name  # the server under test: a lab.servers.SERVERS name

    # completeness (the scenario's own counts, summed over its processes)
    sent: int = 0
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    gaps: int = 0
    resumed: int = 0  # messages brought back by resuming from a cursor after a reconnect

    # delivery latency in ms (receiver's clock minus the sender's ts), from raw samples
    latency_samples: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_max_ms: float | None = None
    latency_mean_ms: float | None = None
    deliveries_per_s: float = 0.0

    # bytes that crossed the server's sockets during the run (TCP_INFO), per direction
    wire_bytes_in: int = 0  # client → server
    wire_bytes_out: int = 0  # server → client
    wire_bytes_in_per_msg: float | None = None  # per delivered message
    wire_bytes_out_per_msg: float | None = None
    wire_bytes_per_msg: float | None = None
    payload_bytes_per_msg: float | None = None  # mean JSON size of a delivered message
    tcpip_overhead_per_msg_estimate: float | None = None  # segments × header estimate

    # requests the server answered
    requests: int = 0
    requests_per_s: float = 0.0
    polls: int = 0  # poll answers (the requests less sends, logins and joins)
    empty_polls: int = 0
    empty_poll_share: float | None = None

    # server cost
    server_cpu_s: float = 0.0
    server_cpu_per_msg_us: float | None = None  # microseconds of server CPU per delivered msg
    server_rss_bytes: int = 0  # at the end of the run
    open_connections: int = 0  # open at the end of the run (the transport's `open`)
    rss_per_connection_bytes: float | None = None  # (rss at end - rss before) / connections

    # load generator
    # the busiest load-generating process, mean over the measurement window (see window_s);
    # generator_cpu_percent_run below covers the whole run, ramp-up included
    generator_cpu_percent: float = 0.0
    locust_failures: int = 0

    # verdict (docs/MEASURING.md, "When a run counts")
    valid: bool = True
    invalid_reasons: list[str] = field(default_factory=list)

    # -- added by the sweep (issue 3); every field below has a default, so older summaries load
    label: str = ""  # what this run shows, e.g. "room of 100", "poll every 0.25 s"
    burst_size: int = 0
    private_share: float = 0.0
    # the measurement window: from every user being ready to the end of the drain; the
    # per-message, per-second and CPU numbers above are over this window only
    window_s: float | None = None
    window_delivered: int = 0  # deliveries that arrived inside the window
    server_delivered: int = 0  # the server's own `delivered` count over the window
    unexpected: int = 0  # deliveries nobody was owed (e.g. the answer to a send timed out)
    reconnects: int = 0
    send_failures: int = 0
    abandoned: int = 0  # deliveries owed to users stopped before the end
    server_rss_before_bytes: int = 0  # the fresh server, before any user connected
    generator_cpu_percent_run: float | None = None  # whole run, ramp-up included
    generator_processes: int = 1
    server_pinned: bool = False
    server_cpus: str = ""
    generator_cpus: str = ""
    locust_exit_code: int | None = None
    # measured ratios within the sweep (this run's number over the named run's)
    websocket_run_id: str = ""  # chatlab's WebSocket run under the same load
    wire_bytes_per_msg_vs_websocket: float | None = None
    server_cpu_per_msg_vs_websocket: float | None = None
    bare_run_id: str = ""  # the bare broadcast server's run under the same load
    server_cpu_per_msg_vs_bare: float | None = None
    # chatlab's run against the peer's (Flask-SocketIO) over the same transport, same load
    peer_run_id: str = ""
    server_cpu_per_msg_vs_peer: float | None = None
    wire_bytes_per_msg_vs_peer: float | None = None
    # where the wire bytes were counted: "server" (its sockets' TCP_INFO, as /api/metrics
    # reports them) or "client" (the load generator's sockets, for a server that counts none)
    wire_counted_at: str = "server"

    # -- the network (issue 7): loopback, or `chatlab link` between the users and the server
    link: bool = False  # the users reached the server through an emulated link
    rtt_ms: float = 0.0  # the link's round trip (0 on loopback without a link)
    jitter_ms: float = 0.0
    rate_kbit: float | None = None  # the link's cap per direction; None: no cap
    new_connection_per_request: bool = False  # HTTP receive requests on fresh connections
    # the way out alone: from the server's acceptance (`at`) to the arrival, ms, in the window
    from_server_p50_ms: float | None = None
    from_server_p99_ms: float | None = None
    from_server_max_ms: float | None = None
    from_server_mean_ms: float | None = None
    # short polling: how long one poll took, request to answer (Locust's times of the whole
    # run: the mean exact, the median from Locust's histogram, rounded to 2 digits above 100)
    poll_response_mean_ms: float | None = None
    poll_response_p50_ms: float | None = None
    # the link over the window: the bytes the server received and sent through it, their
    # distance from the server's own counts (wire_bytes_in + _out) in %, the connections it
    # accepted, and its CPU (on the generator's cores)
    link_bytes_up: int | None = None
    link_bytes_down: int | None = None
    link_bytes_vs_server_percent: float | None = None
    link_connections: int | None = None
    link_cpu_s: float | None = None
    link_cpu_percent: float | None = None  # % of one core, over the window
    link_cpu_per_msg_us: float | None = None  # per delivered message
    # every load-generating process and the link together, % of the generator's cores
    generator_side_cpu_percent: float | None = None

    @property
    def load(self) -> tuple:
        """What the users did and over which network, whatever they spoke (and whether its
        requests kept their connections) and to which server: runs under the same load are
        the ones a ratio may compare."""
        return (self.workload, self.users, self.room_size, self.send_interval_s,
                self.header_profile, self.burst_size, self.private_share, self.link,
                self.rtt_ms, self.jitter_ms, self.rate_kbit)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunRow":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("transport") == BARE_BROADCAST.name:  # summaries from before `server`
            values.update(server=BARE_BROADCAST.name, transport=Transport.WEBSOCKET.value)
        return cls(**values)


@dataclass
class CapacityRow:
    """A capacity run (loadtests/capacity.py): the user count stepped up until a step did not
    count; the largest that did, on the server's one core."""

    run_id: str
    transport: str
    workload: str
    room_size: int
    send_interval_s: float
    header_profile: str
    started_at: str
    ended_at: str
    server: str = CHATLAB.name
    label: str = ""
    plan: list[int] = field(default_factory=list)  # each step's user count
    hold_s: float = 0.0  # seconds each step was measured
    settle_s: float = 0.0
    p99_limit_ms: float = 0.0
    users: int = 0  # the largest step that counted (0: none did)
    at_least: bool = False  # the generator or the plan ran out first: the server may hold more
    stopped_by: str = ""  # server | generator | plan ("" when the run could not be made)
    reason: str = ""  # why the last step did not count
    sentence: str = ""  # the result in words
    steps: list[dict[str, Any]] = field(default_factory=list)  # each step's verdict, in order
    server_pinned: bool = False
    server_cpus: str = ""
    generator_cpus: str = ""
    locust_exit_code: int | None = None
    valid: bool = True
    invalid_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CapacityRow":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def csv_columns() -> list[str]:
    return [f.name for f in fields(RunRow)]


def write_summary(folder: Path, environment: dict[str, Any], rows: list[RunRow],
                  capacity: list[CapacityRow] | None = None) -> None:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    summary = {"environment": environment, "rows": [row.as_dict() for row in rows],
               "capacity": [row.as_dict() for row in capacity or []]}  # fmt: skip
    (folder / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    with (folder / "summary.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=csv_columns())
        writer.writeheader()
        for row in rows:
            values = row.as_dict()
            values["invalid_reasons"] = "; ".join(row.invalid_reasons)
            writer.writerow(values)


def read_summary(folder: Path) -> tuple[dict[str, Any], list[RunRow]]:
    summary = json.loads((Path(folder) / SUMMARY_FILE).read_text())
    return summary["environment"], [RunRow.from_dict(row) for row in summary["rows"]]


def read_capacity(folder: Path) -> list[CapacityRow]:
    """A sweep's capacity runs (none in summaries from before them)."""
    summary = json.loads((Path(folder) / SUMMARY_FILE).read_text())
    return [CapacityRow.from_dict(row) for row in summary.get("capacity", [])]
