"""The issue's targets, checked against a sweep's rows: met, or missed by how much.

Targets are benchmarks measured by the sweep, never timed assertions in tests.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chat_core import Transport
from lab.results import CapacityRow, RunRow
from lab.servers import CHATLAB, FLASK_SOCKETIO


@dataclass(frozen=True)
class Check:
    measure: str  # what is checked, e.g. "p99 delivery latency"
    value: Callable[[RunRow], float | None]
    limit: float
    unit: str
    below: bool = True  # the value must stay below the limit (else: at least the limit)
    margin: bool = True  # say by how much, in % of the limit
    or_equal: bool = False  # with `below`: the limit itself is within (a ratio of "≤ 0.5×")

    def evaluate(self, row: RunRow) -> dict[str, Any]:
        value = self.value(row)
        if value is None:
            return {"measure": self.measure, "value": None, "limit": self.limit, "unit": self.unit,
                    "met": False, "note": "not measured"}  # fmt: skip
        if self.below:
            met = value <= self.limit if self.or_equal else value < self.limit
        else:
            met = value >= self.limit
        note = "met" if met else "missed"
        if self.margin:
            off = (value - self.limit) / self.limit * 100
            side = "at" if off == 0 else f"{abs(off):.0f}% {'below' if off < 0 else 'above'}"
            note += f": {side} the limit"
        return {"measure": self.measure, "value": value, "limit": self.limit, "unit": self.unit,
                "met": met, "note": note}  # fmt: skip


@dataclass(frozen=True)
class Target:
    name: str
    matches: Callable[[RunRow], bool]
    checks: tuple[Check, ...]


def _chatlab(row: RunRow, transport: Transport) -> bool:
    """Whether the run measured chatlab's own server over `transport`, on loopback with kept
    alive connections (the targets are the server's, not a network's)."""
    return (
        row.server == CHATLAB.name
        and row.transport == transport
        and not row.link
        and not row.new_connection_per_request
    )


def _per_1000(row: RunRow) -> float | None:
    us = row.server_cpu_per_msg_us
    return None if us is None else us * 1000 / 1e6


def _ratio(what: str, value: Callable[[RunRow], float | None], limit: float) -> Check:
    """Server CPU per delivered message as a multiple of another server's, at most `limit`."""
    return Check(f"server CPU per delivered message against {what}", value, limit, "×",
                 or_equal=True)  # fmt: skip


def _kib(row: RunRow) -> float | None:
    per = row.rss_per_connection_bytes
    return None if per is None else per / 1024


TARGETS = (
    Target(
        "chat over WebSocket, 1,000 users in rooms of 10, a message every 5 s each",
        lambda r: (
            _chatlab(r, Transport.WEBSOCKET)
            and r.workload == "chat"
            and r.users == 1000
            and r.room_size == 10
            and r.send_interval_s == 5
        ),  # fmt: skip
        (
            Check("p99 delivery latency", lambda r: r.latency_p99_ms, 50, "ms"),
            Check("deliveries lost", lambda r: r.lost, 1, "", margin=False),
            Check("generator CPU", lambda r: r.generator_cpu_percent, 85, "%"),
        ),
    ),
    Target(
        "one room of 100 over WebSocket, a message a second each",
        lambda r: (
            _chatlab(r, Transport.WEBSOCKET)
            and r.workload == "chat"
            and r.users == 100
            and r.room_size == 100
            and r.send_interval_s == 1
        ),  # fmt: skip
        (
            Check("p99 delivery latency", lambda r: r.latency_p99_ms, 10, "ms"),
            Check("server CPU per 1,000 delivered", _per_1000, 0.036, "s"),
            _ratio("Flask-SocketIO's WebSocket", lambda r: r.server_cpu_per_msg_vs_peer, 0.5),
            _ratio("the bare broadcast loop", lambda r: r.server_cpu_per_msg_vs_bare, 1.2),
        ),
    ),
    Target(
        "chat over long polling against Flask-SocketIO's long polling, same load",
        lambda r: (
            _chatlab(r, Transport.LONG_POLL)
            and r.workload == "chat"
            and r.room_size == 10
            and bool(r.peer_run_id)
        ),  # fmt: skip
        (_ratio("Flask-SocketIO's long polling", lambda r: r.server_cpu_per_msg_vs_peer, 1.0),),
    ),
    Target(
        "5,000 open WebSocket connections in one server process",
        lambda r: _chatlab(r, Transport.WEBSOCKET) and r.workload == "idle" and r.users >= 5000,
        (
            Check("open connections", lambda r: r.open_connections, 5000, "", False, False),
            Check("resident memory per connection", _kib, 50, "KiB"),
        ),
    ),
    Target(
        "5,000 pending long polls in one server process",
        lambda r: _chatlab(r, Transport.LONG_POLL) and r.workload == "idle" and r.users >= 5000,
        (
            Check("pending long polls", lambda r: r.open_connections, 5000, "", False, False),
            Check("resident memory per pending poll", _kib, 50, "KiB"),
        ),
    ),
)


def evaluate(rows: list[RunRow], capacity: list[CapacityRow] | None = None
             ) -> list[dict[str, Any]]:  # fmt: skip
    """One entry per target: the run it was measured in (the last match), and each check;
    then, per transport both servers speak, chatlab's capacity against Flask-SocketIO's."""
    results = []
    for target in TARGETS:
        matching = [row for row in rows if target.matches(row)]
        if not matching:
            note = "not in this sweep (chatlab bench --targets runs it)"
            results.append({"target": target.name, "run_id": None, "checks": [], "note": note})
            continue
        row = matching[-1]
        results.append({"target": target.name, "run_id": row.run_id, "valid": row.valid,
                        "checks": [check.evaluate(row) for check in target.checks]})  # fmt: skip
    return results + [_capacity_target(capacity or [], t) for t in FLASK_SOCKETIO.transports]


def _capacity_target(capacity: list[CapacityRow], transport: Transport) -> dict[str, Any]:
    """chatlab holds at least as many users as Flask-SocketIO over `transport`."""
    name = f"capacity over {transport.label}: chatlab holds as many users as Flask-SocketIO"
    ours = [r for r in capacity if r.server == CHATLAB.name and r.transport == transport]
    theirs = [r for r in capacity if r.server == FLASK_SOCKETIO.name and r.transport == transport]
    if not ours or not theirs:
        note = "not in this sweep (chatlab bench --capacity runs it)"
        return {"target": name, "run_id": None, "checks": [], "note": note}
    mine, peer = ours[-1], theirs[-1]
    value = mine.users / peer.users if peer.users else (float("inf") if mine.users else None)
    check = Check("users held against Flask-SocketIO's", lambda _: value, 1.0, "×", below=False,
                  margin=False)  # fmt: skip
    result = check.evaluate(mine)  # type: ignore[arg-type]
    if peer.at_least:
        result["note"] += f" (Flask-SocketIO's is at least {peer.users:,}: {peer.sentence})"
    return {"target": name, "run_id": f"{mine.run_id} against {peer.run_id}",
            "valid": mine.valid and peer.valid, "checks": [result]}  # fmt: skip
