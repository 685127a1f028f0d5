"""What theory predicts, to draw beside what was measured (docs/MEASURING.md, "Theory").

- Short polling: a message waits for the next poll, on average half the interval, then
  travels one transit: mean ≈ interval / 2 + one transit, spread evenly over one interval.
- Long polling: one transit while the poll is parked; up to three when messages arrive back
  to back (the answer, the new request, then the message: RFC 6202, section 2.2).
- SSE and WebSocket: one transit.
- A new TCP connection for a request costs one round trip (the handshake) before the
  request can leave: a poll over a fresh connection takes two round trips, not one.

On loopback, "one transit" (sender → server → receiver) is not known from first principles
on a given machine: it is estimated from the same sweep's WebSocket median, and every plot
says so. Over an emulated link of round trip RTT every transit of one way adds RTT / 2 to
that loopback figure: the way out of the server (the message's `at` to its arrival) is the
part the claims are about; a delivery (from the sender's `ts`) adds the sender's own way in.
With polls sent at a fixed rate (as setInterval keeps them), a fresh connection per poll
shifts when polls reach the server but not how long a message waits for one: it costs each
poll a round trip, and a message only where a client must reconnect before it can have it
(long polling under bursts).
"""

from collections.abc import Sequence

from chat_core import Transport
from lab.results import RunRow

from .rows import chatlab_rows, pick, where

LONG_POLL_BURST_TRANSITS = 3

# Kaazing, "HTML5 Web Sockets: A Quantum Leap in Scalability for the Web" (Lubbers & Greco):
# header bytes of one HTTP poll (request + response) and of one WebSocket frame, and the
# network throughput they published for N clients polling (or receiving) once a second.
KAAZING_POLL_BYTES = 871
KAAZING_FRAME_BYTES = 2
KAAZING_CLIENTS = (1_000, 10_000, 100_000)
KAAZING_POLLING_MBPS = {1_000: 6.6, 10_000: 66.0, 100_000: 665.0}
KAAZING_WEBSOCKET_MBPS = {1_000: 0.015, 10_000: 0.153, 100_000: 1.526}
BITS_PER_MBIT = 2**20  # the article's Mbps: 871 × 1,000 × 8 / 2**20 = 6.6


def mbps(bytes_each: float, clients: int, per_second: float = 1.0) -> float:
    """Network throughput of `clients` each moving `bytes_each` bytes `per_second` times a
    second, in the article's Mbps (2**20 bits), so that measured and published compare."""
    return bytes_each * clients * per_second * 8 / BITS_PER_MBIT


def transit_ms(rows: Sequence[RunRow], users: int | None = None) -> float | None:
    """One transit, estimated from the WebSocket median of these rows (at `users` if given);
    SSE's median when there is no WebSocket run."""
    for transport in (Transport.WEBSOCKET, Transport.SSE):
        candidates = chatlab_rows(rows, transport=transport)
        if users is not None:
            candidates = where(candidates, users=users)
        row = pick(r for r in candidates if r.latency_p50_ms is not None)
        if row is not None:
            return row.latency_p50_ms
    return None


def short_poll_mean_ms(poll_interval_s: float, transit: float) -> float:
    return poll_interval_s * 1000 / 2 + transit


def short_poll_quantile_ms(poll_interval_s: float, transit: float, q: float) -> float:
    """The q-quantile if the wait for the next poll is spread evenly over one interval."""
    return poll_interval_s * 1000 * q + transit


def long_poll_range_ms(transit: float) -> tuple[float, float]:
    return transit, LONG_POLL_BURST_TRANSITS * transit


# Ian Hickson: "reducing latency from 150ms (TCP round trip to set up the connection plus a
# packet for the message) to 50ms (just the packet for the message)" (Kaazing's article quotes
# it as "reducing latency from 150ms to 50ms"): a 50 ms packet each way, a 100 ms round trip.
HICKSON_FRESH_MS = 150.0
HICKSON_PUSH_MS = 50.0
HICKSON_RTT_MS = 100.0


def one_way_ms(rtt_ms: float) -> float:
    return rtt_ms / 2


def way_out_ms(transport: str, rtt_ms: float, poll_interval_s: float = 1.0,
               base_ms: float = 0.0) -> float:  # fmt: skip
    """The median way out of the server, from acceptance to arrival: short polling waits half
    an interval for the next poll, then one transit; the others travel one transit (a long
    poll that is parked). `base_ms` is the loopback part, estimated from measurement."""
    wait = poll_interval_s * 1000 / 2 if transport == Transport.SHORT_POLL else 0.0
    return base_ms + wait + one_way_ms(rtt_ms)


def delivery_ms(transport: str, rtt_ms: float, poll_interval_s: float = 1.0,
                base_ms: float = 0.0) -> float:  # fmt: skip
    """The median delivery latency, sender to receiver: the sender's way in (one transit more
    than the way out). `base_ms` is the loopback delivery latency of one push, estimated."""
    return way_out_ms(transport, rtt_ms, poll_interval_s, base_ms) + one_way_ms(rtt_ms)


def long_poll_burst_out_ms(rtt_ms: float, new_connection: bool = False,
                           base_ms: float = 0.0) -> tuple[float, float]:  # fmt: skip
    """The way out under bursts: from one transit up to three (the answer, the new request,
    then the message), and a round trip more when each poll opens a new connection."""
    transit = one_way_ms(rtt_ms)
    high = LONG_POLL_BURST_TRANSITS * transit + (rtt_ms if new_connection else 0.0)
    return base_ms + transit, base_ms + high


def poll_round_trip_ms(rtt_ms: float, new_connection: bool = False) -> float:
    """One poll, request to answer: a round trip, and the handshake's round trip before it
    over a new connection."""
    return rtt_ms * (2 if new_connection else 1)
