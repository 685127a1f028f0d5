"""Collecting cyclic garbage less often than Python's defaults would, in the chat server's
serving processes.

Python collects its youngest generation after 700 more container objects were made than freed.
A server with 1,000 pending long polls keeps thousands of young objects alive at any moment
(each request's environ, handler state, frames), so a collection came every ~0.2 s and walked
thousands to 42,000 objects (up to 28 ms each); the older generations walked the app and the
tables it loads at start (up to 100 ms). Measured with 1,000 long-polling users in rooms of 10
(server on core 0, Locust on core 1; 15 s of CPU, one run each, December 2026):

    collector                                     server CPU   collections   p95 / p99 ms
    Python's defaults (700, 10, 10)               8.7-10.2 s   ~90, 0.6 s     45-87 / 125-178
    gc.freeze() at start, defaults                7.4 s        44, 0.4 s      10 / 41
    gc.freeze() at start, (10,000, 10, 10)        6.6 s        none           6 / 16
    gc.freeze() at start, (50,000, 20, 100)       7.3 s        none           8 / 21

What the process holds once it has started is never garbage: it is frozen (moved to
the permanent generation, which no collection walks), and the youngest generation may grow to
10,000 objects. Cyclic garbage waits longer to be collected: at most ~10,000 objects, a few MB.

The same settings in the load generator (Locust) changed nothing measurable (3 alternated
rounds, 1,000 users: WebSocket p99 1.9-2.2 ms and long polling 45-119 ms either way), so the
generator keeps Python's.
"""

import atexit
import gc

# Python's are (700, 10, 10); see the module's docstring for the figures that chose these
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


def collect_less_often() -> None:
    """Once started: freeze what the process holds, and raise the youngest generation's
    threshold (see the module's docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    # at exit, the frozen objects are torn down in the usual order again: left frozen, a
    # logging handler's weak reference fired while gevent's hub was being finalized (an
    # "Exception ignored" traceback at every exit)
    atexit.register(gc.unfreeze)
