"""Each chatlab transport beside its Flask-SocketIO counterpart under the same load, so that
what a transport costs (long polling against WebSocket, in either implementation) is told
apart from what an implementation costs (chatlab against Flask-SocketIO, over one transport).

The pairs are the ones the sweep made (`RunRow.peer_run_id`); Flask-SocketIO counts no bytes,
so its bytes are the load generator's, counted on the client side, and labelled so.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chat_core import Transport
from lab.results import RunRow
from lab.servers import CHATLAB, FLASK_SOCKETIO

from .rows import label, where

# what targets.json calls the check of a chatlab run against its peer (loadtests/targets.py)
PEER_CHECK = "server CPU per delivered message against Flask-SocketIO"


@dataclass(frozen=True, slots=True)
class PeerLine:
    chatlab: RunRow
    peer: RunRow
    target: dict[str, Any] | None  # the sweep's check of this ratio, where it has one

    @property
    def transport(self) -> str:
        return self.chatlab.transport

    @property
    def what(self) -> str:
        return f"{label(self.transport)}, chatlab vs Flask-SocketIO"


@dataclass(frozen=True)
class PeerComparison:
    lines: list[PeerLine]
    sentences: list[str] = field(default_factory=list)


def load_words(row: RunRow) -> str:
    """What the users did, in words."""
    words = f"{row.workload}, {row.users:,} users in rooms of {row.room_size}"
    if row.send_interval_s != 5.0:
        words += f", a message every {row.send_interval_s:g} s each"
    if row.header_profile != "minimal":
        words += f", {row.header_profile} headers"
    if row.link:
        words += f", {row.rtt_ms:g} ms round trip"
    return words


def _checks(targets: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """run_id → its check against the peer, from the sweep's targets.json."""
    found = {}
    for target in targets:
        for check in target.get("checks", []):
            if target.get("run_id") and check["measure"].startswith(PEER_CHECK):
                found[target["run_id"]] = check
    return found


def peer_comparison(
    rows: Sequence[RunRow], targets: Sequence[dict[str, Any]] = ()
) -> PeerComparison:
    by_id = {row.run_id: row for row in rows}
    checks = _checks(targets)
    lines = [
        PeerLine(row, by_id[row.peer_run_id], checks.get(row.run_id))
        for row in rows
        if row.server == CHATLAB.name and row.peer_run_id in by_id
    ]
    lines.sort(key=lambda line: (line.chatlab.load, list(Transport).index(line.transport)))
    return PeerComparison(lines, _sentences(rows, lines))


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _sentences(rows: Sequence[RunRow], lines: list[PeerLine]) -> list[str]:
    """Per load with both transports in both implementations: the transport's cost, then
    the implementation's."""
    said = []
    loads = list(dict.fromkeys(line.chatlab.load for line in lines))
    for load in loads:
        pair = {line.transport: line for line in lines if line.chatlab.load == load}
        poll, ws = pair.get(Transport.LONG_POLL), pair.get(Transport.WEBSOCKET)
        if poll is None or ws is None:
            continue
        ours = _ratio(poll.chatlab.server_cpu_per_msg_us, ws.chatlab.server_cpu_per_msg_us)
        theirs = _ratio(poll.peer.server_cpu_per_msg_us, ws.peer.server_cpu_per_msg_us)
        if ours is None or theirs is None:
            continue
        said.append(
            f"{load_words(poll.chatlab).capitalize()}: long polling costs {ours:,.1f}× "
            f"WebSocket's server CPU per delivered message in chatlab and {theirs:,.1f}× in "
            f"Flask-SocketIO — the transport's cost, in either implementation; chatlab costs "
            f"{_num(poll.chatlab.server_cpu_per_msg_vs_peer)}× Flask-SocketIO's over long "
            f"polling and {_num(ws.chatlab.server_cpu_per_msg_vs_peer)}× over WebSocket — the "
            "implementation's."
        )
    if lines:
        said.append(
            "Flask-SocketIO counts no bytes: its bytes per message are counted on the client "
            "side (the load generator's sockets, TCP_INFO, over the same window), chatlab's at "
            "the server's sockets; either end counts the same TCP payload."
        )
    elif where(rows, server=FLASK_SOCKETIO.name):
        said.append("Flask-SocketIO's runs have no chatlab run under the same load to pair with.")
    else:
        said.append(
            "No Flask-SocketIO runs in this sweep: `chatlab bench --transports "
            "long_poll,socketio_polling,websocket,socketio_websocket` pairs each transport with "
            "its counterpart."
        )
    return said


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"
