"""A process's resources, one way for every part of the lab: its CPU time and resident memory
(chatlab's server and the baseline for their `/api/metrics`, the load generator for its own
CPU), the number of files it may hold open (servers and links hold thousands of sockets), and
how busy a process's cores were, whoever kept them busy (the machine may be shared)."""

import gc
import os
import resource
from pathlib import Path
from typing import Any

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User plus system CPU time of this process (of its reaped children: RUSAGE_CHILDREN)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """On-CPU time of every thread of process `pid`, from the scheduler's count in ns where
    the kernel keeps it (user + system times in /proc/PID/stat come in 10 ms ticks, too coarse
    for a few seconds of a relay's work). OSError if there is no such process."""
    tasks = Path(f"/proc/{pid}/task")
    try:
        return (
            sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9
        )
    except (ValueError, IndexError, FileNotFoundError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes() -> int:
    """This process's resident memory now (getrusage knows only its peak)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE


def raise_file_limit() -> None:
    """Allow as many open files (sockets) as the system lets this user have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


def process_usage() -> dict[str, Any]:
    """The `process` part of a server's `/api/metrics`."""
    return {
        "cpu_seconds": cpu_seconds(),
        "rss_bytes": rss_bytes(),
        "pid": os.getpid(),
        "gc_collections": sum(generation["collections"] for generation in gc.get_stats()),
        "gc_threshold": list(gc.get_threshold()),
        "gc_frozen": gc.get_freeze_count(),
    }


_BUSY_FIELDS = slice(0, 3), slice(4, 8)  # /proc/stat: user nice system, (idle iowait) irq
# softirq steal: busy is everything but idle and iowait


def cores_busy_seconds(pid: int) -> tuple[float, int]:
    """CPU time spent busy so far on the cores process `pid` may run on, by every process of
    the machine, and how many cores that is. OSError if there is no such process."""
    cores = os.sched_getaffinity(pid)
    busy = 0
    for line in Path("/proc/stat").read_text().splitlines():
        name, *ticks = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            values = [int(t) for t in ticks]
            busy += sum(values[_BUSY_FIELDS[0]]) + sum(values[_BUSY_FIELDS[1]])
    return busy / os.sysconf("SC_CLK_TCK"), len(cores)
