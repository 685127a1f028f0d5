"""Where each transport hits the wall: the capacity runs' verdicts, chatlab's and
Flask-SocketIO's, and the course notes' claim about scale judged from them.

A capacity run's server is pinned to one core, so the users it held are its users per core.
Where the server's core was not full at the last step that counted (the generator, or the
plan, ran out first), `per_core_estimate` stretches that step's users to a full core in
proportion to the server's CPU: an estimate, labelled so wherever it is shown.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chat_core import Transport
from lab.results import CapacityRow
from lab.servers import CHATLAB

GENERATOR, MACHINE, PLAN = "generator", "machine", "plan"  # loadtests.capacity's `stopped_by`


@dataclass(frozen=True, slots=True)
class CapacityLine:
    row: CapacityRow

    @property
    def who(self) -> str:
        server = "chatlab" if self.row.server == CHATLAB.name else "Flask-SocketIO"
        return f"{Transport(self.row.transport).label}, {server}"

    @property
    def verdict(self) -> str:
        row = self.row
        if not row.stopped_by:
            return "not measured"
        if row.stopped_by == GENERATOR:
            return f"at least {row.users:,} (the generator ran out)"
        if row.stopped_by == PLAN:
            return f"at least {row.users:,} (every step counted)"
        if row.stopped_by == MACHINE:
            return f"at least {row.users:,} (other processes took the server's core)"
        return f"holds {row.users:,}" if row.users else "holds none of the steps"

    @property
    def last_counted(self) -> dict[str, Any] | None:
        counted = [step for step in self.row.steps if step.get("counted")]
        return counted[-1] if counted else None

    @property
    def failed(self) -> dict[str, Any] | None:
        last = self.row.steps[-1] if self.row.steps else None
        return last if last is not None and not last.get("counted") else None

    @property
    def per_core_estimate(self) -> float | None:
        """Users per full server core, stretched from the last step that counted."""
        step = self.last_counted
        cpu = step.get("server_cpu_percent") if step else None
        if step is None or not cpu:
            return None
        return step["users"] * 100 / cpu


def capacity_lines(capacity: Sequence[CapacityRow]) -> list[CapacityLine]:
    """In the lesson's order of transports, chatlab's before Flask-SocketIO's."""
    order = list(Transport)
    ordered = sorted(capacity, key=lambda r: (order.index(Transport(r.transport)),
                                              r.server != CHATLAB.name))  # fmt: skip
    return [CapacityLine(row) for row in ordered]


def capacity_notes(capacity: Sequence[CapacityRow]) -> list[str]:
    """How the runs were made, from their own records."""
    if not capacity:
        return []
    first = capacity[0]
    plan = ", ".join(f"{users:,}" for users in first.plan)
    notes = [
        f"Chat in rooms of {first.room_size}, a message every {first.send_interval_s:g} s each; "
        f"steps of {plan} users, each measured {first.hold_s:g} s after {first.settle_s:g} s "
        f"of settling; a step counts while its p99 is within {first.p99_limit_ms:g} ms, "
        "nothing is lost, no request fails, every user sets up and the server's core is not "
        "full. The server runs on one core: the users it held are its users per core.",
        "“Users per full core” stretches the last step that counted to a full server core in "
        "proportion to its CPU: an estimate (the cost per user is assumed to stay the same).",
        "“Its core busy in all” counts every process on the server's core over the step: where "
        "it is far above the server's own CPU, other processes of the machine took the core, "
        "and the step measured the machine as much as the server.",
    ]
    for row in capacity:
        if not row.valid:
            notes.append(f"{row.run_id} is INVALID: {'; '.join(row.invalid_reasons)}.")
    return notes


def comparison_sentences(capacity: Sequence[CapacityRow]) -> list[str]:
    """chatlab against Flask-SocketIO on each transport both speak."""
    said = []
    for transport in Transport:
        ours = [r for r in capacity if r.transport == transport and r.server == CHATLAB.name]
        theirs = [r for r in capacity if r.transport == transport and r.server != CHATLAB.name]
        if not ours or not theirs:
            continue
        mine, peer = CapacityLine(ours[-1]), CapacityLine(theirs[-1])
        said.append(f"{transport.label}: chatlab {mine.verdict}, Flask-SocketIO {peer.verdict}.")
    return said
