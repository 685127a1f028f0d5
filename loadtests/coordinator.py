"""The coordinator role (the local process, or the master): the measurement window, the
drain at the end, and the run's completeness summed over every load-generating process.

The window opens when every generator reports its users ready, and closes when every
generator has drained: the server's metrics are read at both ends, so per-message numbers
leave out logins, joins and connection set-up. At the end the coordinator prints the counts,
says loudly if anything was lost, sets a non-zero exit code if so, and writes the counts and
raw latency samples to --lab-output for the sweep.
"""

import json
import logging
import sys
import time
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gevent
import gevent.event
from locust.env import Environment
from locust.runners import MasterRunner

from lab.run_files import SCENARIO_FILE, read_scenario, write_output
from lab.server_metrics import read_metrics

from .derive import latency_summary
from .generator import DRAIN, READY, REPORT, WINDOW
from .ledger import LedgerReport
from .link_reading import read_link
from .options import ScenarioOptions

log = logging.getLogger("chatlab")
_REPORT_GRACE = 15.0  # seconds beyond the drain timeout to wait for the generators' reports


def fetch_metrics(host: str | None) -> dict[str, Any] | None:
    """The server's /api/metrics, or None if it cannot be read."""
    if not host:
        return None
    try:
        return read_metrics(host)
    except (OSError, ValueError) as error:
        log.warning("chatlab: could not read the server's metrics: %s", error)
        return None


class Coordinator:
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.reset()
        runner = environment.runner
        runner.register_message(READY, self._on_ready)
        runner.register_message(REPORT, self._on_report)
        environment.events.test_start.add_listener(lambda **_: self.reset())
        environment.events.test_stopping.add_listener(lambda **_: self.finish())
        environment.events.quitting.add_listener(lambda **_: self.record_errors())

    def reset(self) -> None:
        self.options = ScenarioOptions.from_parsed(self.environment.parsed_options)
        self.ready: set[str] = set()
        self.reports: dict[str, dict[str, Any]] = {}
        self.reports_in = gevent.event.Event()
        self.window_start: float | None = None
        self.server_start: dict[str, Any] | None = None
        self.link_start: dict[str, Any] | None = None
        self.finishing = False

    def _server_url(self) -> str | None:
        """Where the server's metrics are read: the server itself, not through a link."""
        return self.options.lab_server or self.environment.host

    def _read_link(self) -> dict[str, Any] | None:
        return read_link(self.options.lab_link_pid_file, self.options.lab_link_stats)

    def _generators(self) -> set[str]:
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            return {
                worker.id for worker in runner.clients.all if worker not in runner.clients.missing
            }
        return {"local"}

    # -- the window -------------------------------------------------------------------------

    def _on_ready(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.ready.add(msg.node_id)
        if self.window_start is None and self.ready >= self._generators():
            self._open_window()

    def _open_window(self) -> None:
        self.server_start = fetch_metrics(self._server_url())
        self.link_start = self._read_link()
        self.window_start = time.time()
        log.info("chatlab: every user is ready; the measurement window opens")
        self.environment.runner.send_message(WINDOW, {"start": self.window_start})
        if self.options.lab_window > 0:
            gevent.spawn_later(self.options.lab_window, self._end_run)

    def _end_run(self) -> None:
        runner = self.environment.runner
        parsed = self.environment.parsed_options
        if parsed is not None and getattr(parsed, "headless", False):
            runner.quit()
        else:
            runner.stop()

    # -- the end ----------------------------------------------------------------------------

    def _on_report(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.reports[msg.node_id] = msg.data
        if set(self.reports) >= self._generators():
            self.reports_in.set()

    def finish(self) -> None:
        """At test_stopping, before any user is stopped: drain everywhere, then sum up."""
        if self.finishing:
            return
        self.finishing = True
        self.environment.runner.send_message(DRAIN, {})
        if not self.reports_in.wait(self.options.drain_timeout + _REPORT_GRACE):
            missing = self._generators() - set(self.reports)
            log.error("chatlab: no report from %d load generator(s): %s", len(missing), missing)
        server_end = fetch_metrics(self._server_url())
        link_end = self._read_link()
        window_end = time.time()
        summary, latencies, from_server = self.summarize(server_end, window_end)
        summary["link_start"], summary["link_end"] = self.link_start, link_end
        print_summary(summary, sys.stdout)
        for problem in summary["problems"]:
            log.error("chatlab: %s", problem)
        if summary["problems"]:
            self.environment.process_exit_code = 1
        if self.options.lab_output:
            write_output(Path(self.options.lab_output), summary, latencies, from_server)

    def record_errors(self) -> None:
        """At the very end: Locust's failed requests, printed (its --json-file run prints none)
        and kept with the scenario's output, so an invalid run says what failed."""
        errors = [
            {"method": e.method, "name": e.name, "error": str(e.error), "occurrences": n}
            for e in self.environment.runner.stats.errors.values()
            if (n := e.occurrences)
        ]
        for error in errors:
            print(f"chatlab: {error['occurrences']} × {error['method']} {error['name']}: "
                  f"{error['error']}", flush=True)  # fmt: skip
        folder = Path(self.options.lab_output) if self.options.lab_output else None
        summary = read_scenario(folder) if folder is not None else None
        if summary is not None and folder is not None:
            summary["locust_errors"] = errors
            (folder / SCENARIO_FILE).write_text(json.dumps(summary, indent=2) + "\n")

    def summarize(self, server_end: dict[str, Any] | None, window_end: float
                  ) -> tuple[dict[str, Any], dict[str, array], dict[str, array]]:  # fmt: skip
        merged: dict[str, LedgerReport] = {}
        generators = []
        for node, report in sorted(self.reports.items()):
            wall = float(report["wall_seconds"])
            generators.append({
                "node": node, "pid": report["pid"], "users": report["users"],
                "cpu_seconds": report["cpu_seconds"], "wall_seconds": wall,
                "cpu_percent": 100 * report["cpu_seconds"] / wall if wall > 0 else None,
            })  # fmt: skip
            for transport, wire in report["transports"].items():
                part = LedgerReport.from_wire(wire)
                merged.setdefault(transport, LedgerReport.empty()).merge(part)
        transports = {}
        for transport, report in merged.items():
            transports[transport] = {
                **report.counts.as_dict(),
                "window_delivered": report.window_delivered,
                "latency_ms": latency_summary(report.latencies_ms),
                "from_server_ms": latency_summary(report.from_server_ms),
            }
        window = None
        if self.window_start is not None:
            window = {"start": self.window_start, "end": window_end,
                      "seconds": window_end - self.window_start}  # fmt: skip
        summary = {
            "options": self.options.as_dict(),
            "host": self.environment.host,
            "server": self._server_url(),
            "window": window,
            "server_start": self.server_start,
            "server_end": server_end,
            "generators": generators,
            "missing_reports": sorted(self._generators() - set(self.reports)),
            "transports": transports,
            "meters": summed_meters(self.reports.values()),
        }
        summary["problems"] = problems(summary)
        latencies = {t: r.latencies_ms for t, r in merged.items()}
        return summary, latencies, {t: r.from_server_ms for t, r in merged.items()}


def summed_meters(reports: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Each meter's growth over the window (Generator.meters), summed over the generators
    that read it at both ends."""
    meters: dict[str, dict[str, int]] = {}
    for report in reports:
        for name, reading in (report.get("meters") or {}).items():
            start, end = reading.get("start"), reading.get("end")
            if start is None or end is None:
                continue
            total = meters.setdefault(name, {})
            for key, value in end.items():
                total[key] = total.get(key, 0) + int(value) - int(start.get(key, 0))
    return meters


def problems(summary: dict[str, Any]) -> list[str]:
    """What makes this run's message flow wrong: each is a reason to exit non-zero."""
    found = []
    for transport, counts in summary["transports"].items():
        for key, what in (("lost", "LOST"), ("duplicated", "duplicated"),
                          ("out_of_order", "out of order")):  # fmt: skip
            if counts[key]:
                found.append(f"{transport}: {counts[key]} deliveries {what}")
    if summary["missing_reports"]:
        found.append(f"no counts from load generator(s) {', '.join(summary['missing_reports'])}")
    return found


def print_summary(summary: dict[str, Any], out: Any) -> None:
    window = summary["window"]
    span = f"{window['seconds']:.1f} s window" if window else "no measurement window"
    lines = [f"chatlab scenario: {summary['options']['workload']}, {span}"]
    for transport, c in sorted(summary["transports"].items()):
        lat = c["latency_ms"]
        lines.append(
            f"  {transport}: sent {c['sent']}, expected {c['expected']}, delivered "
            f"{c['delivered']}, lost {c['lost']}, duplicated {c['duplicated']}, out of order "
            f"{c['out_of_order']}, gaps {c['gaps']}, unexpected {c['unexpected']}, "
            f"reconnects {c['reconnects']}, resumed {c['resumed']}"
        )
        if lat["samples"]:
            lines.append(
                f"  {transport}: delivery latency p50 {lat['p50']:.2f} ms, p95 {lat['p95']:.2f} "
                f"ms, p99 {lat['p99']:.2f} ms, max {lat['max']:.2f} ms ({lat['samples']} samples)"
            )
    for problem in summary["problems"]:
        bar = "!" * 12
        lines.append(f"{bar} chatlab: {problem} {bar}")
    print("\n".join(lines), file=out, flush=True)
