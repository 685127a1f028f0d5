"""The classic argument, claim by claim, each judged by ratios computed from the sweep.

Nothing here is written in: every number in a verdict comes from the rows. A claim whose
numbers go the other way is stated as contradicted; one whose runs are all invalid is
inconclusive; one with no runs to judge it says which command produces them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from chat_core import Transport
from lab.results import CapacityRow, RunRow
from lab.servers import CHATLAB, FLASK_SOCKETIO, run_label

from . import theory
from .capacity import GENERATOR, MACHINE, PLAN, CapacityLine
from .network import hickson, loopback_bases
from .overhead import WS_ENVELOPE_BYTES
from .rows import (
    baseline_rows,
    chatlab_rows,
    common_level,
    comparable,
    label,
    networked_rows,
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
        f" {poll.empty_poll_share:.0%} of its polls came back empty."
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


def all_claims(rows: Sequence[RunRow], capacity: Sequence[CapacityRow] = ()) -> list[Claim]:
    """Every claim the rows can be asked about; the claim about scale where the sweep made
    capacity runs."""
    scale = [long_polling_at_scale(capacity)] if capacity else []
    return [
        polling_wastes(rows),
        long_poll_reconnects(rows),
        websocket_is_lean(rows),
        short_polling_waits(rows),
        long_polling_transits(rows),
        push_one_transit(rows),
        fresh_connection_costs_a_handshake(rows),
        *scale,
    ]


def long_polling_at_scale(capacity: Sequence[CapacityRow]) -> Claim:
    claim = "Once users come in numbers, long polling's server cost is fatal."
    found = {row.transport: row for row in capacity if row.server == CHATLAB.name}
    poll, ws = found.get(Transport.LONG_POLL), found.get(Transport.WEBSOCKET)
    if poll is None or ws is None or not poll.stopped_by or not ws.stopped_by:
        return Claim(claim, NOT_MEASURED, "Needs capacity runs of chatlab's long polling and "
                     "WebSocket: `chatlab bench --capacity`.")  # fmt: skip
    polls, pushes = CapacityLine(poll), CapacityLine(ws)
    evidence = (
        f"Stepping the chat's users up on one server core, chatlab's long polling "
        f"{polls.verdict}, its WebSocket {pushes.verdict}"
    )
    if poll.stopped_by in (GENERATOR, MACHINE, PLAN):
        verdict = INCONCLUSIVE
        evidence += ": long polling's server had not reached its wall when the run ended."
    elif poll.users < ws.users:
        verdict = SUPPORTED
        evidence += f" ({ws.users / max(poll.users, 1):,.1f}× as many users)."
    elif ws.stopped_by in (GENERATOR, MACHINE, PLAN):
        verdict = INCONCLUSIVE
        evidence += ": WebSocket's server had not reached its wall to compare."
    else:
        verdict = CONTRADICTED
        evidence += "."
    wall = polls.failed
    if wall is not None:
        evidence += (
            f" Long polling stopped at {wall['users']:,} users: {'; '.join(wall['reasons'])}."
        )
    if not (poll.valid and ws.valid):
        return Claim(claim, INCONCLUSIVE, evidence + " Computed from invalid runs.",
                     (poll.run_id, ws.run_id))  # fmt: skip
    return Claim(claim, verdict, evidence, (poll.run_id, ws.run_id))


def baseline_comparison(rows: Sequence[RunRow]) -> list[str]:
    """chatlab's server CPU per delivered message as a multiple of a bare broadcast loop."""
    bases = baseline_rows(rows)
    if not bases:
        return [
            "No bare-broadcast baseline run: run `chatlab bench --quick` to compare "
            "chatlab's server CPU per message with a bare gevent WebSocket broadcast loop."
        ]
    base = pick(bases)
    assert base is not None
    same = same_load(rows, base)
    compared = [(label(t), pick(r for r in chatlab_rows(same, transport=t)
                                if r.server_cpu_per_msg_us)) for t in Transport]  # fmt: skip
    # the peer beside, where it ran under the same load too
    compared += [
        (run_label(r.server, r.transport), r) for r in where(same, server=FLASK_SOCKETIO.name)
    ]
    said = []
    for name, row in compared:
        if row is None or row.server_cpu_per_msg_us is None or base.server_cpu_per_msg_us is None:
            continue
        ratio = row.server_cpu_per_msg_us / base.server_cpu_per_msg_us
        invalid = "" if row.valid and base.valid else " (from a run marked invalid)"
        said.append(
            f"{name}: {row.server_cpu_per_msg_us:,.1f} µs of server CPU per "
            f"delivered message, {ratio:,.1f}× the bare broadcast loop's "
            f"{base.server_cpu_per_msg_us:,.1f} µs ({base.workload}, {base.users} users, rooms "
            f"of {base.room_size}){invalid}."
        )
    return said


# -- over a network ------------------------------------------------------------------------

# A latency agrees with theory within 25% of the prediction, or 5 ms where that is more: the
# server's and the link's own time, and the spread of a median over a few seconds' samples.
THEORY_TOLERANCE = 0.25
THEORY_TOLERANCE_MS = 5.0
_NEEDS_LINK = "Needs runs over an emulated link: run `chatlab bench --quick`."


def _within(measured: float, predicted: float) -> bool:
    return abs(measured - predicted) <= max(THEORY_TOLERANCE_MS, THEORY_TOLERANCE * predicted)


def _at_most(measured: float, predicted: float) -> bool:
    return measured <= predicted + max(THEORY_TOLERANCE_MS, THEORY_TOLERANCE * predicted)


def _linked_chat(rows: Sequence[RunRow], transport: str) -> RunRow | None:
    """The transport's chat run over a plain link (kept-alive, no jitter or cap), the one
    nearest Hickson's 100 ms round trip."""
    found = [
        row
        for row in networked_rows(rows, workload="chat", transport=transport)
        if not row.new_connection_per_request and not row.jitter_ms and not row.rate_kbit
        and row.rtt_ms > 0 and row.from_server_p50_ms is not None
    ]  # fmt: skip
    found.sort(key=lambda row: (abs(row.rtt_ms - theory.HICKSON_RTT_MS), not row.valid))
    return found[0] if found else None


def _base(rows: Sequence[RunRow], row: RunRow) -> tuple[float, str]:
    """The loopback part of the way out, estimated, and how it was."""
    bases = loopback_bases(rows, row.users, row.workload)
    if bases.run_id is None:
        return 0.0, "no loopback part (no WebSocket run without a link)"
    return bases.way_out_ms, (
        f"{bases.way_out_ms:,.1f} ms of loopback, estimated from {bases.run_id}"
    )


def short_polling_waits(rows: Sequence[RunRow]) -> Claim:
    claim = "Short polling waits half an interval, plus a transit."
    row = _linked_chat(rows, Transport.SHORT_POLL)
    if row is None or row.from_server_p50_ms is None:
        return Claim(claim, NOT_MEASURED, _NEEDS_LINK)
    base, how = _base(rows, row)
    predicted = theory.way_out_ms(row.transport, row.rtt_ms, row.poll_interval_s, base)
    evidence = (
        f"Over a {row.rtt_ms:g} ms round trip (chat, {row.users:,} users, a poll every "
        f"{row.poll_interval_s:g} s), a message waited {row.from_server_p50_ms:,.0f} ms on its "
        f"way out of the server at the median; theory: half the interval "
        f"({row.poll_interval_s * 500:,.0f} ms) + one transit ({row.rtt_ms / 2:g} ms) + {how} "
        f"= {predicted:,.0f} ms. It holds here within {THEORY_TOLERANCE:.0%} of theory."
    )
    return _judge(claim, _within(row.from_server_p50_ms, predicted), evidence, [row])


def long_polling_transits(rows: Sequence[RunRow]) -> Claim:
    claim = "Long polling costs one transit, up to three when messages come back to back."
    chat = _linked_chat(rows, Transport.LONG_POLL)
    if chat is None or chat.from_server_p50_ms is None:
        return Claim(claim, NOT_MEASURED, _NEEDS_LINK)
    base, how = _base(rows, chat)
    one = theory.way_out_ms(chat.transport, chat.rtt_ms, base_ms=base)
    holds = _within(chat.from_server_p50_ms, one)
    evidence = (
        f"Over a {chat.rtt_ms:g} ms round trip (chat, {chat.users:,} users), a message's way out "
        f"of the server took {chat.from_server_p50_ms:,.1f} ms at the median: one transit "
        f"({chat.rtt_ms / 2:g} ms + {how} = {one:,.1f} ms), the poll parked when it came."
    )
    used = [chat]
    bursts = [
        r
        for r in networked_rows(rows, workload="burst", transport=Transport.LONG_POLL)
        if r.from_server_p99_ms is not None and not r.jitter_ms and not r.rate_kbit
    ]
    for burst in sorted(bursts, key=lambda r: (r.rtt_ms, r.new_connection_per_request)):
        assert burst.from_server_p99_ms is not None
        fresh = burst.new_connection_per_request
        low, high = theory.long_poll_burst_out_ms(burst.rtt_ms, fresh)
        transit = burst.rtt_ms / 2
        holds = holds and _at_most(burst.from_server_p99_ms, high)
        evidence += (
            f" Under bursts of {burst.burst_size} over {burst.rtt_ms:g} ms"
            + (", a new connection per poll" if fresh else "")
            + f", p50 {burst.from_server_p50_ms:,.0f} ms and p99 "
            f"{burst.from_server_p99_ms:,.0f} ms ({burst.from_server_p99_ms / transit:,.1f} "
            f"transits; theory: at most {high / transit:g}, {high:,.0f} ms"
            + (", three transits and the handshake's round trip" if fresh else "")
            + ")."
        )
        used.append(burst)
    if len(used) == 1:
        evidence += " No burst run over a link: the three transits are not measured."
    evidence += f" It holds here within {THEORY_TOLERANCE:.0%} of theory."
    return _judge(claim, holds, evidence, used)


def push_one_transit(rows: Sequence[RunRow]) -> Claim:
    claim = "WebSocket and SSE cost one transit."
    found = [row for t in (Transport.WEBSOCKET, Transport.SSE) if (row := _linked_chat(rows, t))]
    if not found:
        return Claim(claim, NOT_MEASURED, _NEEDS_LINK)
    holds, said = True, []
    for row in found:
        assert row.from_server_p50_ms is not None
        base, how = _base(rows, row)
        predicted = theory.way_out_ms(row.transport, row.rtt_ms, base_ms=base)
        holds = holds and _within(row.from_server_p50_ms, predicted)
        said.append(
            f"{label(row.transport)} {row.from_server_p50_ms:,.1f} ms (theory {predicted:,.1f})"
        )
    first = found[0]
    evidence = (
        f"Over a {first.rtt_ms:g} ms round trip (chat, {first.users:,} users), the median way "
        f"out of the server: {'; '.join(said)}; theory: one transit of {first.rtt_ms / 2:g} ms "
        f"plus the loopback part. It holds here within {THEORY_TOLERANCE:.0%} of theory."
    )
    return _judge(claim, holds, evidence, found)


def fresh_connection_costs_a_handshake(rows: Sequence[RunRow]) -> Claim:
    claim = "A new connection per poll costs a TCP handshake on top (“150 ms → 50 ms”)."
    comparison = hickson(rows)
    fresh = next(
        (line for line in comparison.lines if line.published_ms == theory.HICKSON_FRESH_MS), None
    )
    kept = next((line for line in comparison.lines if line.published_ms is None), None)
    if comparison.rtt_ms is None or fresh is None or kept is None:
        return Claim(claim, NOT_MEASURED, _NEEDS_LINK)
    assert fresh.measured_ms is not None and kept.measured_ms is not None
    rtt = comparison.rtt_ms
    extra = fresh.measured_ms - kept.measured_ms
    evidence = (
        f"Over a {rtt:g} ms round trip, a poll over a new connection took "
        f"{fresh.measured_ms:,.0f} ms (median), over a kept-alive one {kept.measured_ms:,.0f} "
        f"ms: the new connection cost {extra:,.0f} ms more, theory one round trip ({rtt:g} ms, "
        f"the handshake). {comparison.sentences[0]} It holds here within "
        f"{THEORY_TOLERANCE:.0%} of theory."
    )
    used = [row for row in rows if row.run_id in (fresh.run_id, kept.run_id)]
    return _judge(claim, _within(extra, rtt), evidence, used)
