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
    if _port_in_use(args.host, args.port):
        return _refuse_busy_port(args.host, args.port)
    # gevent must patch the standard library before anything imports it
    from gevent import monkey

    monkey.patch_all()

    from transports import create_app
    from transports.server import PortBusy, serve

    app = create_app()
    try:
        serve(
            app,
            host=args.host,
            port=args.port,
            access_log=args.access_log,
            announce=lambda line: print(line, flush=True),
        )
    except PortBusy:
        return _refuse_busy_port(args.host, args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatlab", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the chat over all four transports")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    serve.add_argument("--access-log", action="store_true", help="log every request")
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
