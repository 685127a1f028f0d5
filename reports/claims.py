"""The classic argument, claim by claim, each judged by ratios computed from the sweep.

Nothing here is written in: every number in a verdict comes from the rows. A claim whose
numbers go the other way is stated as contradicted; one whose runs are all invalid is
inconclusive; one with no runs to judge it says which command produces them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from chat_core import Transport
from lab.results import RunRow

from .overhead import WS_ENVELOPE_BYTES
from .rows import (
    baseline_rows,
    chatlab_rows,
    common_level,
    comparable,
    label,
    overhead_per_msg,
    pick,
    requests_per_msg,
    same_load,
    total_overhead_per_msg,
    user_levels,
    where,
)

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED = (
    "supported",
    "contradicted",
    "inconclusive",
    "not measured",
)
# "A reconnect per message": at least one new request for every two delivered messages.
RECONNECTS_PER_MSG_MIN = 0.5
# "One connection": at most one reconnect per ten users over a run.
CONNECTIONS_PER_USER_MAX = 1.1
# "A few bytes": no more framing per message than RFC 6455's largest frame header (2 bytes,
# 8 of extended length, 4 of mask). chatlab's own JSON envelope is counted apart.
MAX_FRAME_HEADER_BYTES = 14


@dataclass(frozen=True, slots=True)
class Claim:
    claim: str
    verdict: str
    evidence: str  # the measured ratios, in one or two sentences
    run_ids: tuple[str, ...] = ()


def _judge(claim: str, holds: bool, evidence: str, used: Sequence[RunRow]) -> Claim:
    ids = tuple(row.run_id for row in used)
    invalid = [row for row in used if not row.valid]
    if invalid:
        reasons = "; ".join(
            f"{row.run_id}: {', '.join(row.invalid_reasons) or 'marked invalid'}" for row in invalid
        )
        return Claim(
            claim, INCONCLUSIVE, f"{evidence} Computed from invalid runs ({reasons}).", ids
        )
    return Claim(claim, SUPPORTED if holds else CONTRADICTED, evidence, ids)


def _at_level(rows: Sequence[RunRow], transports: Sequence[str]) -> tuple[int, list[RunRow]]:
    users = common_level(rows, transports)
    if users is None:
        return 0, []
    found = [pick(where(rows, transport=t, users=users)) for t in transports]
    return users, [row for row in found if row is not None]


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def polling_wastes(rows: Sequence[RunRow]) -> Claim:
    claim = "Polling wastes requests and bandwidth."
    users, found = _at_level(comparable(rows, "chat"), [Transport.SHORT_POLL, Transport.WEBSOCKET])
    if not found:
        return Claim(
            claim,
            NOT_MEASURED,
            "Needs chat runs of short polling and WebSocket at "
            "one user count: run `chatlab bench --quick`.",
        )
    poll, ws = found
    size = _ratio(poll.wire_bytes_per_msg, ws.wire_bytes_per_msg)
    if size is None or not poll.requests_per_s:
        return Claim(
            claim,
            NOT_MEASURED,
            f"The runs at {users} users lack requests or bytes "
            "per message for one of the two transports.",
            (poll.run_id, ws.run_id),
        )
    if ws.requests_per_s:
        ratio = poll.requests_per_s / ws.requests_per_s
        requests = (
            f"{ratio:,.1f}× the requests per second of WebSocket ({poll.requests_per_s:,.1f}/s "
            f"against {ws.requests_per_s:,.2f}/s)"
        )
    else:  # its connections were all opened before the measurement window
        ratio = float("inf")
        requests = (
            f"{poll.requests_per_s:,.1f} requests per second while WebSocket made none in the "
            "measurement window (its connections were opened before it)"
        )
    empty = (
        f" {poll.empty_poll_share:.0%} of its requests were polls that came back empty."
        if poll.empty_poll_share is not None
        else ""
    )
    evidence = (
        f"At {users:,} users (chat), short polling made {requests} and moved {size:,.1f}× the "
        f"bytes per delivered message ({poll.wire_bytes_per_msg:,.0f} B against "
        f"{ws.wire_bytes_per_msg:,.0f} B).{empty}"
    )
    return _judge(claim, ratio > 1 and size > 1, evidence, found)


def long_poll_reconnects(rows: Sequence[RunRow]) -> Claim:
    claim = "Long polling costs a reconnect per message."
    chat = where(comparable(rows, "chat"), transport=Transport.LONG_POLL)
    levels = user_levels(chat)
    row = pick(where(chat, users=levels[-1])) if levels else None
    per_msg = requests_per_msg(row) if row is not None else None
    if row is None or per_msg is None:
        return Claim(
            claim,
            NOT_MEASURED,
            "Needs a chat run of long polling that delivered "
            "messages: run `chatlab bench --quick`.",
        )
    # Sends are HTTP POSTs charged to the same transport: take them out, at the run's own
    # ratio of sent to delivered messages (an estimate within the window).
    sends = row.sent / row.delivered if row.delivered else 0.0
    polls = max(per_msg - sends, 0.0)
    batch = f"; an answer carried {1 / polls:,.1f} messages on average" if polls else ""
    evidence = (
        f"At {row.users:,} users (chat), long polling made {per_msg:,.2f} HTTP requests per "
        f"delivered message; less the sends ({sends:,.2f} per delivered message, estimated "
        f"from sent ÷ delivered), {polls:,.2f} polls per delivered message{batch}. Each "
        "answer ends its request and the client asks again (over a kept-alive TCP "
        f"connection)."
    )
    poll = pick(where(comparable(rows, "chat"), transport=Transport.SHORT_POLL, users=row.users))
    if poll is not None and poll.requests_per_s:
        evidence += (
            f" That is {row.requests_per_s:,.1f} requests per second, "
            f"{row.requests_per_s / poll.requests_per_s:,.1f}× short polling's "
            f"{poll.requests_per_s:,.1f} (every {poll.poll_interval_s:g} s) under the same load."
        )
    evidence += f" The claim holds here if polls per message are at least {RECONNECTS_PER_MSG_MIN}."
    return _judge(claim, polls >= RECONNECTS_PER_MSG_MIN, evidence, [row])


def websocket_is_lean(rows: Sequence[RunRow]) -> Claim:
    claim = "WebSocket needs one connection and a few bytes a message."
    chat = comparable(rows, "chat")
    ws_levels = user_levels(where(chat, transport=Transport.WEBSOCKET))
    if not ws_levels:
        return Claim(
            claim, NOT_MEASURED, "Needs a chat run of WebSocket: run `chatlab bench --quick`."
        )
    users = common_level(chat, [Transport.SHORT_POLL, Transport.WEBSOCKET]) or ws_levels[-1]
    ws = pick(where(chat, transport=Transport.WEBSOCKET, users=users))
    poll = pick(where(chat, transport=Transport.SHORT_POLL, users=users))
    assert ws is not None
    ws_out, ws_total = overhead_per_msg(ws), total_overhead_per_msg(ws)
    poll_total = total_overhead_per_msg(poll) if poll is not None else None
    per_user, connections = _connections_per_user(ws)
    if per_user is None or ws_out is None or ws_total is None:
        return Claim(
            claim,
            NOT_MEASURED,
            f"The WebSocket run at {users} users lacks connection or byte counts.",
            (ws.run_id,),
        )
    framing = ws_out - WS_ENVELOPE_BYTES
    evidence = (
        f"At {users:,} users (chat), WebSocket {connections} ({per_user:,.2f} per user). Each "
        f"delivered message cost {ws_out:,.1f} bytes beyond its JSON on the way to the client: "
        f"chatlab's {WS_ENVELOPE_BYTES}-byte JSON envelope and {framing:,.1f} bytes of framing "
        f"(frame headers, acks, control frames; an RFC 6455 frame header is 2 to "
        f"{MAX_FRAME_HEADER_BYTES} bytes)"
    )
    used = [ws]
    share = _ratio(ws_total, poll_total)
    if share is not None and poll is not None and share > 0:
        evidence += (
            f". Both directions counted, {ws_total:,.1f} bytes against short polling's "
            f"{poll_total:,.0f} ({1 / share:,.1f}× as many)"
        )
        used.append(poll)
    evidence += (
        f". The claim holds here with at most {CONNECTIONS_PER_USER_MAX} connections per user "
        f"and at most {MAX_FRAME_HEADER_BYTES} bytes of framing per message."
    )
    holds = per_user <= CONNECTIONS_PER_USER_MAX and framing <= MAX_FRAME_HEADER_BYTES
    return _judge(claim, holds, evidence, used)


def _connections_per_user(ws: RunRow) -> tuple[float | None, str]:
    """Connections per user: those open at the end plus reconnects, where the run counted
    them; else the connections opened (requests), for results without those counts."""
    if not ws.users:
        return None, ""
    reconnects = getattr(ws, "reconnects", 0)
    if ws.open_connections:
        count = ws.open_connections + reconnects
        return count / ws.users, (
            f"held {ws.open_connections:,} connections open at the end for {ws.users:,} users "
            f"after {reconnects:,} reconnects"
        )
    return ws.requests / ws.users, f"opened {ws.requests:,} connections for {ws.users:,} users"


def all_claims(rows: Sequence[RunRow]) -> list[Claim]:
    return [polling_wastes(rows), long_poll_reconnects(rows), websocket_is_lean(rows)]


def baseline_comparison(rows: Sequence[RunRow]) -> list[str]:
    """chatlab's server CPU per delivered message as a multiple of a bare broadcast loop."""
    bases = baseline_rows(rows)
    if not bases:
        return [
            "No bare-broadcast baseline run: run `chatlab bench` (default preset) to compare "
            "chatlab's server CPU per message with a bare gevent WebSocket broadcast loop."
        ]
    base = pick(bases)
    assert base is not None
    said = []
    same = same_load(rows, base)
    for transport in Transport:
        row = pick(r for r in chatlab_rows(same, transport=transport) if r.server_cpu_per_msg_us)
        if row is None or base.server_cpu_per_msg_us is None:
            continue
        ratio = row.server_cpu_per_msg_us / base.server_cpu_per_msg_us
        invalid = "" if row.valid and base.valid else " (from a run marked invalid)"
        said.append(
            f"{label(transport)}: {row.server_cpu_per_msg_us:,.1f} µs of server CPU per "
            f"delivered message, {ratio:,.1f}× the bare broadcast loop's "
            f"{base.server_cpu_per_msg_us:,.1f} µs ({base.workload}, {base.users} users, rooms "
            f"of {base.room_size}){invalid}."
        )
    return said
