"""`chatlab serve | bench | report | link`: one console script for the lab.

Each subcommand lives with its subsystem, which exposes `add_arguments(parser)` and
`run(args) -> int`; nothing heavy (gevent, Locust, matplotlib) is imported until it runs.
"""

import argparse
import errno
import socket
import sys

from link import command as link_command
from loadtests import bench
from reports import build

from . import classroom_links


def _port_in_use(host: str, port: int) -> bool:
    """Checked before gevent is loaded, so a refusal exits quietly, without gevent's
    interpreter-shutdown noise."""
    if port == 0:
        return False
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        return error.errno == errno.EADDRINUSE
    finally:
        probe.close()
    return False


def _refuse_busy_port(host: str, port: int) -> int:
    print(
        f"chatlab: Port {port} on {host} is already in use: stop the program using it, "
        f"or choose another with --port.",
        file=sys.stderr,
    )
    return 1


def _serve(args: argparse.Namespace) -> int:
    rtts = _link_rtts(args.links)
    if rtts is None:
        print(f"chatlab: --links takes round trips in ms like 50,200,600, or none; "
              f"not {args.links!r}.", file=sys.stderr)  # fmt: skip
        return 2
    if _port_in_use(args.host, args.port):
        return _refuse_busy_port(args.host, args.port)
    planned = classroom_links.plan_links(args.port, rtts)
    if any(plan.port > 65535 for plan in planned):
        print(f"chatlab: the links take the ports above --port {args.port}, and there are "
              f"not {len(planned)} of them: choose a lower --port.", file=sys.stderr)  # fmt: skip
        return 2
    for plan in planned:
        if _port_in_use(args.host, plan.port):
            return _refuse_busy_link_port(args.host, plan)
    # gevent must patch the standard library before anything imports it
    from gevent import monkey

    monkey.patch_all()

    from transports import create_app
    from transports.networks import register_networks
    from transports.server import PortBusy, listen, serve

    app = create_app()
    try:
        listener = listen(args.host, args.port)
    except PortBusy:
        return _refuse_busy_port(args.host, args.port)
    port = listener.getsockname()[1]
    target = (classroom_links.connect_host(args.host), port)
    try:
        links = classroom_links.start_links(args.host, target, planned)
    except classroom_links.LinkRefused as refusal:
        listener.close()
        print(f"chatlab: {refusal}: stop the program using it, choose another --port, or "
              f"serve without links (--links none).", file=sys.stderr)  # fmt: skip
        return 1
    register_networks(app, port, {p: link.rtt_ms for p, link in links.items()})
    emulated = classroom_links.describe(args.host, links)
    suffix = f"; emulated networks: {emulated}" if links else ""
    try:
        serve(
            app,
            access_log=args.access_log,
            announce=lambda line: print(line + suffix, flush=True),
            listener=listener,
        )
    finally:
        classroom_links.stop_links(links)
    return 0


def _link_rtts(text: str) -> tuple[float, ...] | None:
    """--links: distinct round trips > 0 in ms, or none; None if it is neither."""
    if text.strip().lower() == "none":
        return ()
    try:
        rtts = tuple(float(part) for part in text.split(","))
    except ValueError:
        return None
    if not all(0 < rtt <= 60_000 for rtt in rtts) or len(set(rtts)) != len(rtts):
        return None
    return rtts


def _refuse_busy_link_port(host: str, plan: classroom_links.PlannedLink) -> int:
    print(
        f"chatlab: Port {plan.port} on {host}, for the {plan.rtt_ms:g} ms link, is already "
        f"in use: stop the program using it, choose another --port, or serve without links "
        f"(--links none).",
        file=sys.stderr,
    )
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the chat over all four transports")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument(
        "--links",
        metavar="MS,...",
        default=",".join(f"{rtt:g}" for rtt in classroom_links.CLASSROOM_RTTS_MS),
        help="round trips of the emulated networks /compare offers, each on its own port "
        "(P+1, P+2, ... beside --port P; free ports beside --port 0), or none "
        "(default %(default)s)",
    )
    serve.set_defaults(run=_serve)

    bench_parser = commands.add_parser("bench", help="run the benchmark sweep")
    bench.add_arguments(bench_parser)
    bench_parser.set_defaults(run=bench.run)

    report_parser = commands.add_parser("report", help="turn a sweep's folder into a report")
    build.add_arguments(report_parser)
    report_parser.set_defaults(run=build.run)

    link_parser = commands.add_parser("link", help="relay TCP with an emulated round-trip time")
    link_command.add_arguments(link_parser)
    link_parser.set_defaults(run=link_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
