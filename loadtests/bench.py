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

from lab.announced_child import stop_together
from lab.results import RESULTS_ROOT, TARGETS_FILE, CapacityRow, RunRow, write_summary
from lab.run_files import read_latencies, read_scenario
from lab.server_process import ServerProcess
from lab.servers import CHATLAB, SERVERS
from link.cost import added_latency
from link.process import LinkProcess

from .capacity import CAPACITY_FILE, p99_limit_ms, step_users
from .console import capacity_outcome, final_report, run_outcome
from .derive import RunFacts, add_comparisons, capacity_row, derive_row
from .options import DEFAULTS, HEADER_PROFILES, WORKLOADS, command_line
from .plan import (
    CAPACITY_HOLD_S,
    CAPACITY_SHAPE,
    CAPACITY_STEPS,
    PRESETS,
    QUICK_USERS,
    TRANSPORT_CHOICES,
    RunSpec,
    capacity_runs,
    custom,
    with_network,
    with_window,
)
from .processes import LOADTESTS, SERVER_CONFIG, LocustRun, Pinning, free_port
from .sweep_environment import capture
from .targets import evaluate

LINK_COST_ROUND_TRIPS = 1_000  # about a second
START_FILE = "start"  # written once the server (and the link) are up: Locust's users go
LINK_PID_FILE = "link.pid"  # the link starts after Locust: the coordinator reads its pid here
LINK_STATS_FILE = "link.json"

_HELP = """\
presets (each runs every transport; a run's window is measured once all its users are ready):
  --quick     the whole argument at its smallest, 2-2.5 s windows, about three minutes: chat
              at 50 and 200 users; the bare broadcast loop and Flask-SocketIO's long polling
              and WebSocket at 200; short polling every 0.25 s and 2 s (50 users); ticker at
              20 users with minimal and browser headers; over a 100 ms round trip (chatlab
              link): chat at 50 users, short polling with a new connection per poll, long
              polling under bursts of 10 (kept-alive and a new connection per poll)
  (default)   chat at 100, 300 and 1,000 users, Flask-SocketIO's long polling and WebSocket
              beside chatlab's at 300 and 1,000; ticker at 100 users with minimal and browser
              headers; short polling at 0.25 s and 2 s poll intervals (300 users); bursts of
              20 in rooms of 10; 1,000 idle connections over WebSocket, long polling and SSE;
              one room of 100 over WebSocket, the bare broadcast loop and Flask-SocketIO's
              WebSocket; chat at 100 users over round trips of 50, 100 and 200 ms, WebSocket
              through a link of 0 ms, and the quick preset's new-connection and burst runs
              over 100 ms; then the capacity runs (--capacity): about 15 minutes
  --targets   the issue's target scenarios: chat at 1,000 users (20 s windows, Flask-SocketIO's
              long polling beside), the room of 100 (WebSocket, bare, Flask-SocketIO's
              WebSocket), 5,000 idle WebSockets and 5,000 pending long polls
  --capacity  only the capacity runs: for each transport, chatlab's four and Flask-SocketIO's
              two, chat in rooms of 10 from 250 users, doubling up to 4,000, each step
              measured 4 s after a send interval of settling, until a step stops counting (p99
              over 250 ms, a poll interval more for short polling; anything lost; or the
              server's core full); with --users the first and largest step, --duration each
              step's seconds; four to seven minutes
choosing instead: --transports, --users, --workload, --poll-interval, --header-profile and
--send-interval make a plan of every combination; --duration sets the window of every run.
Flask-SocketIO's transports are spelled socketio_polling and socketio_websocket.
--rtt puts an emulated link (chatlab link, beside the generator on its cores) of each round
trip between the users and the server, for every run of the plan (a preset's own round trips
replaced; the default preset's when nothing else is chosen); --jitter and --rate shape it;
--new-connection makes the HTTP clients open a new connection for every receive request.
The last line printed is `results: <folder>`.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _HELP
    preset = parser.add_mutually_exclusive_group()
    preset.add_argument("--quick", action="store_true", help="about a minute (see below)")
    preset.add_argument("--targets", action="store_true", help="the target scenarios")
    preset.add_argument(
        "--capacity", action="store_true", help="step the users up per transport (see below)"
    )
    parser.add_argument("--transports", help=f"comma list of {', '.join(TRANSPORT_CHOICES)}")
    parser.add_argument("--users", help="comma list of user counts")
    parser.add_argument("--workload", choices=WORKLOADS, help="chat (default), ticker, burst, idle")
    parser.add_argument("--poll-interval", help="comma list of short-poll intervals, seconds")
    parser.add_argument("--header-profile", choices=HEADER_PROFILES, default=None)
    parser.add_argument("--send-interval", type=float, help="seconds between a user's messages")
    parser.add_argument("--duration", type=float, help="seconds measured per run")
    parser.add_argument(
        "--rtt",
        metavar="MS[,MS...]",
        help="run each run through an emulated link of each round trip, ms",
    )
    parser.add_argument(
        "--jitter", type=float, metavar="MS", help="with --rtt: extra delay per chunk, up to MS"
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="KBIT",
        help="with --rtt: the link's cap per direction, kbit/s",
    )
    parser.add_argument(
        "--new-connection",
        action="store_true",
        help="HTTP clients: a new TCP connection for every receive request",
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
        if args.capacity:
            plan = _capacity_plan(args, transports, users)
        else:
            plan = custom(transports, users, args.workload or DEFAULTS.workload, intervals,
                          args.header_profile or DEFAULTS.header_profile,
                          args.duration or 6.0, args.send_interval or 0.0)  # fmt: skip
        name = "custom"
    else:
        name = next((n for n in ("quick", "targets", "capacity") if getattr(args, n)), "default")
        plan = PRESETS[name]()
    if args.duration:
        plan = with_window(plan, args.duration)
    rtts = [_milliseconds("--rtt", word) for word in _words(args.rtt)]
    if (args.jitter is not None or args.rate is not None) and not (rtts or _linked(plan)):
        raise SystemExit("chatlab bench: --jitter and --rate shape a link: give --rtt too")
    for option, value in (("--jitter", args.jitter), ("--rate", args.rate)):
        if value is not None and not (value > 0 if option == "--rate" else value >= 0):
            raise SystemExit(
                f"chatlab bench: {option} must be {'> 0' if option == '--rate' else '≥ 0'}"
            )
    plan = with_network(plan, rtts, args.jitter, args.rate, args.new_connection)
    return name, plan


def _capacity_plan(args: argparse.Namespace, transports: list[str], users: list[int]
                   ) -> list[RunSpec]:  # fmt: skip
    """Capacity runs of the chosen transports: `--users` names the first and largest step."""
    steps = CAPACITY_STEPS
    if args.users:
        steps = (min(users), CAPACITY_STEPS[1], max(users))
        if min(users) < 1:
            raise SystemExit("chatlab bench: --capacity needs user counts of at least 1")
    fields: dict[str, object] = {}
    if args.send_interval:
        fields["send_interval"] = args.send_interval
    if args.workload:
        fields["workload"] = args.workload
    if args.header_profile:
        fields["header_profile"] = args.header_profile
    return capacity_runs(tuple(transports), steps, args.duration or CAPACITY_HOLD_S, **fields)


def _milliseconds(option: str, word: str) -> float:
    try:
        value = float(word)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise SystemExit(f"chatlab bench: {option} takes milliseconds ≥ 0, not {word!r}")
    return value


def _linked(plan: list[RunSpec]) -> bool:
    return any(spec.linked for spec in plan)


def _words(text: str | None) -> list[str]:
    return [word.strip() for word in (text or "").split(",") if word.strip()]


def locust_arguments(spec: RunSpec, url: str, folder: Path, server_url: str | None = None
                     ) -> list[str]:  # fmt: skip
    """Locust's command line for one run against `url`: the server's, or for a run with a
    round trip the link's in front of it (the coordinator then reads the server's metrics
    from `server_url`, and the link's counts through the run folder's LINK_PID_FILE and
    LINK_STATS_FILE). Its users start once the folder's START_FILE exists."""
    drain = DEFAULTS.drain_timeout
    lab: dict[str, object] = {
        "drain_timeout": drain,
        "lab_window": 0.0 if spec.capacity else spec.window,  # a capacity run times its steps
        "lab_output": folder,
        "lab_start_file": folder / START_FILE,
    }
    if spec.capacity is not None:  # the shape sets the users; the sweep's wait is the limit
        return [
            "-f", f"{LOADTESTS / spec.locustfile},{LOADTESTS / CAPACITY_SHAPE}", "--headless",
            "--host", url, "--json-file", str(folder / "locust"), "--only-summary",
            *spec.locust_options(), *spec.capacity_options(), *command_line(**lab),
            f"--capacity-p99-ms={p99_limit_ms(spec.transport, spec.poll_interval):g}",
        ]  # fmt: skip
    ramp = math.ceil(spec.users / spec.spawn_rate)
    time_limit = ramp * 4 + spec.window + drain + 30  # a safety net: the window ends it
    if spec.linked:
        lab.update(lab_server=server_url or "", lab_link_pid_file=folder / LINK_PID_FILE,
                   lab_link_stats=folder / LINK_STATS_FILE)  # fmt: skip
    return [
        "-f", str(LOADTESTS / spec.locustfile), "--headless",
        "-u", str(spec.users), "-r", f"{spec.spawn_rate:g}", "-t", f"{math.ceil(time_limit)}s",
        "--host", url, "--json-file", str(folder / "locust"), "--only-summary",
        *spec.locust_options(), *command_line(**lab),
    ]  # fmt: skip


def time_limit(spec: RunSpec, arguments: list[str]) -> float:
    """Seconds the sweep waits for Locust before it kills it: its own -t and a minute; for a
    capacity run, every step's longest set-up, settling, hold and drain."""
    if spec.capacity is None:
        return float(arguments[arguments.index("-t") + 1].rstrip("s")) + 60
    steps = step_users(spec.capacity[0], spec.capacity[1], spec.capacity[2], spec.room_size)
    each = spec.effective_send_interval + spec.window + 2 * DEFAULTS.drain_timeout + 30
    return sum(each + users / 10 for users in steps) + DEFAULTS.drain_timeout + 60


def measure(spec: RunSpec, run_id: str, folder: Path, pinning: Pinning, cores: int
            ) -> RunRow | CapacityRow:  # fmt: skip
    """One run: a fresh server, a link in front of it if the run has a round trip, Locust
    against it, and its row. Locust is started first (it takes a second or two to load, on
    the generator's cores) and its users wait for the start file, written once the server
    has answered and the link is up, so the loading overlaps the server's start."""
    folder.mkdir(parents=True, exist_ok=True)
    started = _now()
    server_port = free_port()
    link_port = free_port() if spec.linked else None
    server_url = f"http://127.0.0.1:{server_port}"
    url = f"http://127.0.0.1:{link_port}" if link_port is not None else server_url
    stats = folder / LINK_STATS_FILE
    link: LinkProcess | None = None
    server: ServerProcess | None = None
    locust: LocustRun | None = None
    try:
        arguments = locust_arguments(spec, url, folder, server_url)
        locust = LocustRun(arguments, pinning.generator, folder)
        server = ServerProcess(SERVER_CONFIG, stderr=folder / "server.stderr",
                               cpus=pinning.server, module=SERVERS[spec.server].swept_module,
                               port=server_port)  # fmt: skip
        server.wait_healthy()
        before = server.metrics()
        if spec.rtt_ms is not None:
            # beside the generator, on its cores: its CPU is the generator's (docs/MEASURING.md)
            link = LinkProcess(("127.0.0.1", server.port), spec.rtt_ms, *spec.link_options(),
                               stats=stats, stderr=folder / "link.stderr",
                               cpus=pinning.generator, port=link_port or 0)  # fmt: skip
            (folder / LINK_PID_FILE).write_text(str(link.pid))
        (folder / "locust.args.json").write_text(json.dumps(arguments, indent=1))
        (folder / START_FILE).write_text(_now())
        outcome = locust.wait(time_limit(spec, arguments))
    finally:
        if locust is not None:
            locust.stop()
        stop_together([child for child in (link, server) if child is not None])
    assert server is not None  # it started, or the try block raised
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
        generator_cores=len(pinning.generator) if pinning.generator else cores,
    )
    if spec.capacity is not None:
        path = folder / CAPACITY_FILE
        result = json.loads(path.read_text()) if path.exists() else None
        return capacity_row(spec, facts, result)
    scenario = read_scenario(folder)
    locust_path = folder / "locust.json"
    locust_stats = json.loads(locust_path.read_text()) if locust_path.exists() else None
    samples = read_latencies(folder, spec.client)
    return derive_row(spec, facts, scenario, samples, locust_stats)


def link_added_latency(pinning: Pinning) -> dict[str, float | int] | None:
    """What the link itself adds at rtt 0, on the generator's cores as in the runs: ping round
    trips straight and through a link, alternated (link.cost); None if it cannot be measured."""
    try:
        return added_latency(LINK_COST_ROUND_TRIPS, cpus=pinning.generator)
    except (OSError, RuntimeError) as error:
        print(f"chatlab bench: the link's added latency could not be measured: {error}",
              flush=True)  # fmt: skip
        return None


def _failed_row(spec: RunSpec, run_id: str, started: str, error: BaseException
                ) -> RunRow | CapacityRow:  # fmt: skip
    facts = RunFacts(run_id, started, _now())
    row = (capacity_row(spec, facts, None) if spec.capacity is not None
           else derive_row(spec, facts, None, [], None))  # fmt: skip
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
    if _linked(plan):
        environment["link_added_latency"] = link_added_latency(pinning)
        write_summary(folder, environment, [])
    rows: list[RunRow] = []
    capacity: list[CapacityRow] = []
    for index, spec in enumerate(plan, 1):
        run_id = spec.run_name(index)
        users = f"{spec.capacity[0]} users and up" if spec.capacity else f"{spec.users} users"
        print(f"[{index:>2}/{len(plan)}] {run_id}  ({users}, {spec.window:g} s)", flush=True)
        started = _now()
        try:
            row = measure(spec, run_id, folder / run_id, pinning, cores)
        except Exception as error:  # noqa: BLE001 - one broken run must not end the sweep
            traceback.print_exc()
            row = _failed_row(spec, run_id, started, error)
        if isinstance(row, CapacityRow):
            capacity.append(row)
            print(capacity_outcome(row), flush=True)
        else:
            rows.append(row)
            print(run_outcome(row), flush=True)
        # after every run: a partial sweep survives
        write_summary(folder, environment, rows, capacity)
    add_comparisons(rows)
    target_results = evaluate(rows, capacity)
    environment["ended_at"] = _now()
    write_summary(folder, environment, rows, capacity)
    (folder / TARGETS_FILE).write_text(json.dumps(target_results, indent=2) + "\n")
    final_report(rows, target_results, sys.stdout, capacity)
    print(f"results: {folder}", flush=True)
    made = [row for row in rows if row.window_s is not None or row.locust_exit_code is not None]
    made += [row for row in capacity if row.steps]
    return 0 if made else 1
