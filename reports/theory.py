"""What theory predicts, to draw beside what was measured (docs/MEASURING.md, "Theory").

- Short polling: a message waits for the next poll, on average half the interval, then
  travels one transit: mean ≈ interval / 2 + one transit, spread evenly over one interval.
- Long polling: one transit while the poll is parked; up to three when messages arrive back
  to back (the answer, the new request, then the message: RFC 6202, section 2.2).
- SSE and WebSocket: one transit.

"One transit" (sender → server → receiver) is not known from first principles on a given
machine: it is estimated from the same sweep's WebSocket median, and every plot says so.
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
