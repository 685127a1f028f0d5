"""A process's CPU time and resident memory, read one way by every part of the lab: chatlab's
server and the baseline for their `/api/metrics`, the load generator for its own CPU."""

import os
import resource

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User plus system CPU time of this process (of its reaped children: RUSAGE_CHILDREN)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def rss_bytes() -> int:
    """This process's resident memory now (getrusage knows only its peak)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE


def process_usage() -> dict[str, float | int]:
    """The `process` part of a server's `/api/metrics`."""
    return {"cpu_seconds": cpu_seconds(), "rss_bytes": rss_bytes(), "pid": os.getpid()}
