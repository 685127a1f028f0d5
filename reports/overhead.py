"""The classic header-overhead table, with this lab's measured bytes beside the published.

Kaazing's table puts 871 bytes of HTTP headers on every poll and 2 bytes of framing on every
WebSocket message, then multiplies by 1,000, 10,000 and 100,000 clients once a second. Here
the bytes come from the sweep's rows:

- a poll: (bytes in + bytes out) of a short-polling run less the delivered payload, divided
  by its polls (the server's `polls`: poll answers): request and response headers plus the
  JSON envelope. The run's sends (its other requests) are HTTP requests of the same
  transport whose bytes the server counts with the polls', so the figure holds them too: the
  table says what share of the requests they were;
- a WebSocket message: bytes out per delivered message less the message's own JSON: the
  frame header plus chatlab's envelope `{"type":"message","message":…}`.

The `ticker` workload (one small message a second per room) is the article's case; without
it the table falls back to the `chat` workload and says so.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from chat_core import Transport
from lab.results import TCPIP_HEADER_BYTES_ESTIMATE, RunRow

from .rows import (
    STANDARD_POLL_INTERVAL_S,
    chatlab_rows,
    delivered_in_window,
    overhead_per_msg,
    pick,
    where,
)
from .theory import (
    KAAZING_CLIENTS,
    KAAZING_FRAME_BYTES,
    KAAZING_POLL_BYTES,
    KAAZING_POLLING_MBPS,
    KAAZING_WEBSOCKET_MBPS,
    mbps,
)

# What transports/websocket.py wraps around a message's JSON in every frame it sends.
WS_ENVELOPE_BYTES = len(b'{"type":"message","message":}')
WORKLOADS = ("ticker", "chat")  # in order of preference
PROFILES = ("minimal", "browser")


@dataclass(frozen=True, slots=True)
class TableLine:
    what: str  # "polling" | "websocket"
    source: str  # "published" | "measured"
    profile: str | None  # the client's header profile, for measured lines
    bytes_each: float  # bytes of overhead per poll, or per WebSocket message
    mbps: dict[int, float]  # clients → network throughput, the article's Mbps
    tcpip_estimate: float | None = None  # TCP/IP header bytes per poll or message: an ESTIMATE
    run_id: str | None = None
    valid: bool = True
    invalid_reasons: tuple[str, ...] = ()
    sends_share: float | None = None  # polling: the share of the run's requests that were sends


@dataclass(frozen=True, slots=True)
class OverheadTable:
    workload: str | None
    lines: list[TableLine]
    differences: list[str]  # sentences on where and why measured and published differ
    missing: list[str] = field(default_factory=list)  # what is absent and which command adds it


def published_lines() -> list[TableLine]:
    return [
        TableLine("polling", "published", None, KAAZING_POLL_BYTES, dict(KAAZING_POLLING_MBPS)),
        TableLine(
            "websocket", "published", None, KAAZING_FRAME_BYTES, dict(KAAZING_WEBSOCKET_MBPS)
        ),
    ]


def polls_of(row: RunRow) -> int:
    """The run's poll answers (its requests, for summaries from before `polls` was counted)."""
    return row.polls or row.requests


def sends_share(row: RunRow) -> float | None:
    """The share of a polling run's requests that were not polls (the clients' sends)."""
    if not row.polls or not row.requests:
        return None
    return max(row.requests - row.polls, 0) / row.requests


def poll_overhead_bytes(row: RunRow) -> float | None:
    """Bytes per poll of a short-polling run that were not delivered payload (its sends'
    bytes among them: the server counts them with the polls')."""
    polls = polls_of(row)
    if not polls:
        return None
    payload = (row.payload_bytes_per_msg or 0.0) * delivered_in_window(row)
    return (row.wire_bytes_in + row.wire_bytes_out - payload) / polls


def _poll_tcpip(row: RunRow) -> float | None:
    polls = polls_of(row)
    if row.tcpip_overhead_per_msg_estimate is None or not polls:
        return None
    return row.tcpip_overhead_per_msg_estimate * delivered_in_window(row) / polls


def _measured(what: str, row: RunRow, bytes_each: float, tcpip: float | None) -> TableLine:
    return TableLine(
        what,
        "measured",
        row.header_profile,
        bytes_each,
        {n: mbps(bytes_each, n) for n in KAAZING_CLIENTS},
        tcpip,
        row.run_id,
        row.valid,
        tuple(row.invalid_reasons),
        sends_share(row) if what == "polling" else None,
    )


def _poll_row(rows: Sequence[RunRow], profile: str) -> RunRow | None:
    candidates = chatlab_rows(rows, transport=Transport.SHORT_POLL, header_profile=profile)
    standard = where(candidates, poll_interval_s=STANDARD_POLL_INTERVAL_S)
    return pick(standard or candidates)


def header_table(rows: Sequence[RunRow]) -> OverheadTable:
    workload = next((w for w in WORKLOADS if chatlab_rows(rows, workload=w)), None)
    lines = published_lines()
    missing: list[str] = []
    if workload is None:
        missing.append("No ticker or chat runs: run `chatlab bench` for measured bytes.")
        return OverheadTable(None, lines, [], missing)
    if workload != "ticker":
        missing.append(
            "No `ticker` runs (the article's one-message-a-second case): these bytes come from "
            "the `chat` workload. Run `chatlab bench --quick` for the ticker rows."
        )
    chosen = chatlab_rows(rows, workload=workload)
    for profile in PROFILES:
        poll = _poll_row(chosen, profile)
        if poll is not None and (per_poll := poll_overhead_bytes(poll)) is not None:
            lines.append(_measured("polling", poll, per_poll, _poll_tcpip(poll)))
        ws = pick(where(chosen, transport=Transport.WEBSOCKET, header_profile=profile))
        if ws is not None and (per_msg := overhead_per_msg(ws)) is not None:
            lines.append(_measured("websocket", ws, per_msg, ws.tcpip_overhead_per_msg_estimate))
    measured_profiles = {line.profile for line in lines if line.source == "measured"}
    for profile in PROFILES:
        if profile in measured_profiles:
            continue
        if where(chosen, header_profile=profile):
            missing.append(
                f"The `{profile}` header-profile runs of `{workload}` counted no bytes, "
                "requests or payload to compute overhead from."
            )
        else:
            missing.append(
                f"No `{profile}` header-profile runs of `{workload}`: "
                "run `chatlab bench --quick` for both header profiles."
            )
    return OverheadTable(workload, lines, differences(lines), missing)


def differences(lines: Sequence[TableLine]) -> list[str]:
    """Where the measured lines differ from the published ones, and why, from the numbers."""
    said: list[str] = []
    for line in lines:
        if line.source != "measured":
            continue
        if line.what == "polling":
            share = line.bytes_each / KAAZING_POLL_BYTES
            sends = (
                f" The run's sends were {line.sends_share:.0%} of its requests; their bytes are "
                "in the count too (the server counts a transport's requests together), so a "
                "poll alone costs somewhat less."
                if line.sends_share
                else ""
            )
            said.append(
                f"A poll with the {line.profile} header profile measured "
                f"{line.bytes_each:,.0f} bytes, {share:.0%} of the published 871: the article's "
                "example poll carried a browser's full request headers (user agent, accept "
                "lists, cookie, referer) and its server's response headers; this client sends "
                + (
                    "only what the protocol needs"
                    if line.profile == "minimal"
                    else "a current browser's header set with a session cookie"
                )
                + f", and the count here also holds each answer's JSON envelope.{sends}"
            )
        else:
            framing = line.bytes_each - WS_ENVELOPE_BYTES
            said.append(
                f"A WebSocket message ({line.profile} profile run) measured "
                f"{line.bytes_each:,.1f} bytes beyond its JSON, not 2: chatlab wraps every "
                f'message in a {WS_ENVELOPE_BYTES}-byte envelope {{"type":"message",'
                f'"message":…}}, which leaves {framing:,.1f} bytes of framing and handshake '
                "per message; RFC 6455's header is 2 bytes below 126 bytes of payload and 4 up "
                "to 64 KiB, and the handshake is paid once per connection."
            )
        if line.tcpip_estimate is not None:
            said.append(
                f"TCP/IP headers would add about {line.tcpip_estimate:,.0f} bytes per "
                f"{'poll' if line.what == 'polling' else 'message'} ({line.profile}): an "
                f"estimate from segment counts × {TCPIP_HEADER_BYTES_ESTIMATE} bytes, not a "
                "count; neither the article's numbers nor the measured ones above include it."
            )
    return said
