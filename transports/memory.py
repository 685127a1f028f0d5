"""Giving memory that Python has freed back to the system, and collecting cyclic garbage less
often than Python's defaults would while serving.

glibc keeps freed blocks in its heap for reuse rather than returning them: after 250 rooms of
40 messages of 4 KiB were forgotten, every object was gone but the process still held 114 MiB
of the 33 MiB it started with, until `malloc_trim(0)` gave 80 MiB back (measured in one
process; a trim took 0.03-1.5 ms). Elsewhere than glibc this does nothing.

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

What the serving process holds once the app is built is never garbage: it is frozen (moved to
the permanent generation, which no collection walks), and the youngest generation may grow to
10,000 objects. Cyclic garbage waits longer to be collected: at most ~10,000 objects, a few MB.
"""

import atexit
import ctypes
import ctypes.util
import gc

_name = ctypes.util.find_library("c")
_libc = ctypes.CDLL(_name) if _name else None
_trim = getattr(_libc, "malloc_trim", None)


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the system, where the C library can."""
    if _trim is not None:
        _trim(0)


# Python's are (700, 10, 10); see the module's docstring for the figures that chose these
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


def collect_less_often() -> None:
    """Before serving: freeze what the process holds, and raise the youngest generation's
    threshold (see the module's docstring)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    # at exit, the frozen objects are torn down in the usual order again: left frozen, a
    # logging handler's weak reference fired while gevent's hub was being finalized (an
    # "Exception ignored" traceback at every exit)
    atexit.register(gc.unfreeze)
