"""`chatlab bench`: the sweep. For every run of a plan: a fresh server on its own core, Locust
headless on the others, the numbers docs/MEASURING.md defines, one row each.

Nothing here imports Locust or gevent: they run in subprocesses.
"""

import argparse
import json
import math
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from lab.results import RESULTS_ROOT, RunRow, write_summary
from lab.run_files import read_latencies, read_scenario
from lab.server_process import ServerProcess
from lab.servers import CHATLAB, SERVERS

from .console import final_report, run_outcome
from .derive import RunFacts, add_comparisons, derive_row
from .options import DEFAULTS, HEADER_PROFILES, WORKLOADS, command_line
from .plan import (
    BACKENDS,
    PRESETS,
    QUICK_USERS,
    TRANSPORT_CHOICES,
    RunSpec,
    across_backends,
    custom,
    with_window,
)
from .processes import LOADTESTS, SERVER_CONFIG, Pinning, run_locust
from .run_backend import run_backend
from .sweep_environment import capture
from .targets import evaluate

_HELP = """\
presets (each runs every transport; a run's window is measured once all its users are ready):
  --quick     chat workload at 50 and 200 users, 4 s windows: about a minute
  (default)   chat at 100, 300 and 1,000 users; ticker at 100 users with minimal and browser
              headers; short polling at 0.25 s and 2 s poll intervals (300 users); bursts of
              20 in rooms of 10; 1,000 idle connections over WebSocket, long polling and SSE;
              one room of 100 over WebSocket and over the bare broadcast loop: about 6 minutes
  --targets   the issue's target scenarios: chat at 1,000 users (20 s windows), the room of
              100 (WebSocket and bare), 5,000 idle WebSockets and 5,000 pending long polls
choosing instead: --transports, --users, --workload, --poll-interval, --header-profile and
--send-interval make a plan of every combination; --duration sets the window of every run.
The last line printed is `results: <folder>`.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _HELP
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true", help="about a minute (see below)")
    preset.add_argument("--targets", action="store_true", help="the target scenarios")
    parser.add_argument("--transports", help=f"comma list of {', '.join(TRANSPORT_CHOICES)}")
    parser.add_argument("--users", help="comma list of user counts")
    parser.add_argument("--workload", choices=WORKLOADS, help="chat (default), ticker, burst, idle")
    parser.add_argument("--poll-interval", help="comma list of short-poll intervals, seconds")
    parser.add_argument("--header-profile", choices=HEADER_PROFILES, default=None)
    parser.add_argument("--send-interval", type=float, help="seconds between a user's messages")
    parser.add_argument("--duration", type=float, help="seconds measured per run")
    parser.add_argument(
        "--backend",
        help="comma list of memory, redis: each chatlab run once per backend (redis: a "
        "redis-server of the run's own, on the server's cores)",
    )
    parser.add_argument(
        "--workers",
        help="comma list of server process counts for the redis backend, e.g. 1,2",
    )
    parser.add_argument(
        "--results-root",
        type=Path,
        default=RESULTS_ROOT,
        help=f"where the sweep makes its folder (default: {RESULTS_ROOT}/)",
    )
    # --results-root's old name, kept (hidden) for scripts that still use it
    parser.add_argument("--results-dir", type=Path, dest="results_root", help=argparse.SUPPRESS)


def build_plan(args: argparse.Namespace) -> tuple[str, list[RunSpec]]:
    chosen = any(getattr(args, name) is not None
                 for name in ("transports", "users", "workload", "poll_interval",
                              "header_profile", "send_interval"))  # fmt: skip
    if chosen:
        transports = _words(args.transports) or [str(t) for t in CHATLAB.transports]
        unknown = [t for t in transports if t not in TRANSPORT_CHOICES]
        if unknown:
            raise SystemExit(f"chatlab bench: unknown transport(s): {', '.join(unknown)}")
        users = [int(u) for u in _words(args.users)] or list(QUICK_USERS)
        intervals = [float(i) for i in _words(args.poll_interval)] or [DEFAULTS.poll_interval]
        plan = custom(transports, users, args.workload or DEFAULTS.workload, intervals,
                      args.header_profile or DEFAULTS.header_profile, args.duration or 6.0,
                      args.send_interval or 0.0)  # fmt: skip
        name = "custom"
    else:
        name = "quick" if args.quick else "targets" if args.targets else "default"
        plan = PRESETS[name]()
    if args.duration:
        plan = with_window(plan, args.duration)
    if args.backend is not None or args.workers is not None:
        backends = _words(args.backend) or ["memory"]
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown:
            raise SystemExit(f"chatlab bench: unknown backend(s): {', '.join(unknown)}")
        workers = [int(w) for w in _words(args.workers)] or [1]
        plan = across_backends(plan, backends, workers)
    return name, plan


def _words(text: str | None) -> list[str]:
    return [word.strip() for word in (text or "").split(",") if word.strip()]


def locust_arguments(spec: RunSpec, url: str, folder: Path) -> list[str]:
    ramp = math.ceil(spec.users / spec.spawn_rate)
    drain = DEFAULTS.drain_timeout
    time_limit = ramp * 4 + spec.window + drain + 30  # a safety net: the window ends it
    return [
        "-f", str(LOADTESTS / spec.locustfile), "--headless",
        "-u", str(spec.users), "-r", f"{spec.spawn_rate:g}", "-t", f"{math.ceil(time_limit)}s",
        "--host", url, "--json-file", str(folder / "locust"), "--only-summary",
        *spec.locust_options(),
        *command_line(drain_timeout=drain, lab_window=spec.window, lab_output=folder),
    ]  # fmt: skip


def measure(spec: RunSpec, run_id: str, folder: Path, pinning: Pinning, cores: int) -> RunRow:
    """One run: a fresh server, Locust against it, and its row."""
    folder.mkdir(parents=True, exist_ok=True)
    started = _now()
    with run_backend(spec, folder, pinning.server) as (config, module_arguments):
        return _measure(spec, run_id, folder, pinning, cores, started, config, module_arguments)


def _measure(spec: RunSpec, run_id: str, folder: Path, pinning: Pinning, cores: int,
             started: str, config: dict, module_arguments: tuple[str, ...]) -> RunRow:  # fmt: skip
    server = ServerProcess(
        {**SERVER_CONFIG, **config},
        stderr=folder / "server.stderr",
        cpus=pinning.server,
        module=(*SERVERS[spec.server].module, *module_arguments),
    )
    try:
        server.wait_healthy()
        if spec.workers > 1:
            server.wait_workers(spec.workers)
        before = server.metrics()
        arguments = locust_arguments(spec, server.url, folder)
        (folder / "locust.args.json").write_text(json.dumps(arguments, indent=1))
        timeout = float(arguments[arguments.index("-t") + 1].rstrip("s")) + 60
        outcome = run_locust(arguments, pinning.generator, folder, timeout)
    finally:
        server.stop()
    scenario = read_scenario(folder)
    locust_path = folder / "locust.json"
    stats = json.loads(locust_path.read_text()) if locust_path.exists() else None
    facts = RunFacts(
        run_id=run_id,
        started_at=started,
        ended_at=_now(),
        locust_exit_code=outcome.exit_code,
        generator_cpu_percent_run=outcome.cpu_percent,
        server_pinned=server.pinned,
        server_cpus=pinning.describe(pinning.server),
        generator_cpus=pinning.describe(pinning.generator),
        cores=cores,
        server_before=before,
    )
    samples = read_latencies(folder, spec.transport)
    return derive_row(spec, facts, scenario, samples, stats)


def _failed_row(spec: RunSpec, run_id: str, started: str, error: BaseException) -> RunRow:
    row = derive_row(spec, RunFacts(run_id, started, _now()), None, [], None)
    row.invalid_reasons = [f"the run could not be made: {error}"]
    row.valid = False
    return row


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _new_folder(parent: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder, n = parent / stamp, 1
    while folder.exists():
        n += 1
        folder = parent / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def run(args: argparse.Namespace) -> int:
    preset, plan = build_plan(args)
    folder = _new_folder(args.results_root.resolve())  # Locust runs in each run's own folder
    pinning = Pinning.choose()
    environment = capture(preset, plan, pinning)
    cores = int(environment["cores"])
    print(f"chatlab bench: {len(plan)} runs ({preset}), results in {folder}", flush=True)
    if pinning.server is None:
        print("chatlab bench: one core only: server and generator share it", flush=True)
    rows: list[RunRow] = []
    for index, spec in enumerate(plan, 1):
        run_id = spec.run_name(index)
        print(f"[{index:>2}/{len(plan)}] {run_id}  ({spec.users} users, {spec.window:g} s)",
              flush=True)  # fmt: skip
        started = _now()
        try:
            row = measure(spec, run_id, folder / run_id, pinning, cores)
        except Exception as error:  # noqa: BLE001 - one broken run must not end the sweep
            traceback.print_exc()
            row = _failed_row(spec, run_id, started, error)
        rows.append(row)
        print(run_outcome(row), flush=True)
        write_summary(folder, environment, rows)  # after every run: a partial sweep survives
    add_comparisons(rows)
    target_results = evaluate(rows)
    environment["ended_at"] = _now()
    write_summary(folder, environment, rows)
    (folder / "targets.json").write_text(json.dumps(target_results, indent=2) + "\n")
    final_report(rows, target_results, sys.stdout)
    print(f"results: {folder}", flush=True)
    made = [row for row in rows if row.window_s is not None or row.locust_exit_code is not None]
    return 0 if made else 1
