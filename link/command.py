"""`chatlab link`: the relay as a command, with its arguments checked before gevent loads."""

import argparse
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from lab.process_usage import raise_file_limit

from .address import host_port

_HELP = """\
Every byte is delivered RTT/2 after it was read, in each direction, in order; the first bytes
on a new connection wait one RTT more (the handshake a real network costs), so the first
answer on a new connection takes about 2 RTT, on a kept-alive one about 1 RTT. --jitter adds
a uniform draw in [0, J] ms to each chunk's delay, never reordering; --rate caps each
direction (bytes paced as on a slow link). A closed or reset side is passed on to the other.

The target is checked once at start-up (one connection, opened and closed); later, a
connection the target refuses is reset after one RTT.

Counts go to --stats FILE as JSON: bytes each way in total and per connection, and how
connections ended. It is rewritten every second (totals and the open connections) and on
exit (also the last 10,000 closed connections); SIGUSR1 has it written at once (its
"snapshot" field counts the SIGUSR1s answered, so the asker knows when the file is fresh).
SIGTERM or Ctrl-C stops the link, exit 0.
The first line on stdout says where it listens, e.g.
  chatlab link: 127.0.0.1:6000 → 127.0.0.1:5000, rtt 50 ms

--measure-cost measures the relay itself (latency added at rtt 0; CPU per message at the
sweep's loads) and prints the figures; about a minute.
"""

BUSY_HINT = "stop the program using it, or choose another with --listen"


class Refusal(Exception):
    """One sentence for stderr, and the exit code: 2 for bad arguments, 1 for the world."""

    def __init__(self, sentence: str, code: int = 2) -> None:
        super().__init__(sentence)
        self.code = code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _HELP
    # Checked in run(), so that each mistake gets one sentence rather than argparse's usage.
    parser.add_argument("--listen", metavar="HOST:PORT", help="where clients connect (port 0: any)")
    parser.add_argument("--to", metavar="HOST:PORT", help="the server the link leads to")
    parser.add_argument("--rtt", metavar="MS", help="round-trip time added, milliseconds")
    parser.add_argument("--jitter", metavar="MS", default="0", help="extra delay, up to MS")
    parser.add_argument("--rate", metavar="KBIT", help="cap per direction, kbit/s (default none)")
    parser.add_argument(
        "--buffer",
        metavar="KIB",
        default="256",
        help="bytes a direction holds before it stops reading (default 256)",
    )
    parser.add_argument("--stats", metavar="FILE", type=Path, help="write the counts here (JSON)")
    parser.add_argument(
        "--measure-cost",
        action="store_true",
        help="measure the relay's own latency and CPU cost, then exit",
    )
    parser.add_argument(
        "--json", metavar="FILE", type=Path, help="with --measure-cost: also write the figures here"
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.measure_cost:
            return _measure_cost(args)
        settings = settings_from(args)
    except Refusal as refusal:
        return _refuse(refusal)
    return _relay(settings, args.stats)


def _refuse(refusal: Refusal) -> int:
    print(f"chatlab link: {refusal}", file=sys.stderr)
    return refusal.code


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The Link's arguments from the command line, or a Refusal naming the first mistake."""
    if args.listen is None or args.to is None or args.rtt is None:
        raise Refusal("--listen HOST:PORT, --to HOST:PORT and --rtt MS are all needed.")
    rate = None if args.rate is None else _number("--rate", args.rate, "kbit/s", positive=True)
    return {
        "listen": parse_address("--listen", args.listen, port_zero=True),
        "target": parse_address("--to", args.to, port_zero=False),
        "rtt_ms": _number("--rtt", args.rtt, "milliseconds"),
        "jitter_ms": _number("--jitter", args.jitter, "milliseconds"),
        "rate_kbit": rate,
        "buffer_bytes": int(_number("--buffer", args.buffer, "KiB", positive=True) * 1024),
    }


def parse_address(option: str, text: str, port_zero: bool) -> tuple[str, int]:
    """HOST:PORT ([v6]:PORT, or :PORT for 127.0.0.1) → a numeric (host, port)."""
    host, colon, port = text.rpartition(":")
    lowest = 0 if port_zero else 1
    if not colon or not port.isdigit() or not lowest <= int(port) <= 65535:
        raise Refusal(
            f"{option} takes HOST:PORT with a port from {lowest} to 65535, "
            f"e.g. 127.0.0.1:6000, not {text!r}."
        )
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    try:
        found = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refusal(f"{option}: no such host {host!r}.") from None
    return found[0][4][0], int(port)


def _number(option: str, text: str, unit: str, positive: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 if positive else value >= 0) or value == float("inf"):
        bound = "> 0" if positive else "≥ 0"
        raise Refusal(f"{option} takes a number of {unit} {bound}, not {text!r}.")
    return value


def _check_target(target: tuple[str, int]) -> None:
    try:
        socket.create_connection(target, timeout=3).close()
    except OSError as error:
        reason = error.strerror or "no answer within 3 s"
        raise Refusal(
            f"nothing answers at {host_port(target)} ({reason}): start the server "
            f"first, or check --to.",
            code=1,
        ) from None


def _relay(settings: dict[str, Any], stats_path: Path | None) -> int:
    import gevent
    import gevent.event

    from .relay import Link, LinkError

    raise_file_limit()  # a link of 1,000 connections holds 2,000 sockets
    link = Link(**settings)
    try:
        address = link.start()
    except LinkError as error:
        hint = f": {BUSY_HINT}" if "already in use" in str(error) else ""
        return _refuse(Refusal(f"{error}{hint}.", code=1))
    try:
        _check_target(settings["target"])  # while listening: the port is ours already
    except Refusal as refusal:
        link.stop()
        return _refuse(refusal)
    stopping = gevent.event.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stopping.set)
    asked = gevent.event.Event()
    snapshots = [0]  # SIGUSR1s received: each asks for the counts to be written now

    def snapshot_asked() -> None:
        snapshots[0] += 1
        asked.set()

    gevent.signal_handler(signal.SIGUSR1, snapshot_asked)
    print(
        f"chatlab link: {host_port(address)} → {host_port(settings['target'])}, "
        f"{_describe(settings)}",
        flush=True,
    )
    for _ in range(10**10):  # about thirty years of seconds, or more snapshots than anyone asks
        gevent.wait([stopping, asked], timeout=1.0, count=1)
        if stopping.is_set():
            break
        asked.clear()
        if stats_path is not None:
            _write_json(stats_path, {**link.stats(closed=False), "snapshot": snapshots[0]})
    link.stop()
    final = {**link.stats(), "snapshot": snapshots[0]}
    if stats_path is not None:
        _write_json(stats_path, final)
    totals, connections = final["bytes"], final["connections"]["accepted"]
    print(
        f"chatlab link: stopped after {connections} connections, "
        f"{totals['up_written']} bytes up, {totals['down_written']} bytes down",
        flush=True,
    )
    return 0


def _describe(settings: dict[str, Any]) -> str:
    words = [f"rtt {settings['rtt_ms']:g} ms"]
    if settings["jitter_ms"]:
        words.append(f"jitter {settings['jitter_ms']:g} ms")
    if settings["rate_kbit"] is not None:
        words.append(f"rate {settings['rate_kbit']:g} kbit/s")
    return ", ".join(words)


def _write_json(path: Path, value: Any) -> None:
    """Whole or not at all: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=1))
    os.replace(partial, path)


def _measure_cost(args: argparse.Namespace) -> int:
    from .cost import measure_cost, summary_lines

    figures = measure_cost()
    for line in summary_lines(figures):
        print(line, flush=True)
    if args.json is not None:
        _write_json(args.json, figures)
    return 0
