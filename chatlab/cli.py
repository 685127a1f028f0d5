"""`chatlab serve | bench | report`: one console script for the lab.

Each subcommand lives with its subsystem, which exposes `add_arguments(parser)` and
`run(args) -> int`; nothing heavy (gevent, Locust, matplotlib) is imported until it runs.
"""

import argparse
import sys


def _serve(args: argparse.Namespace) -> int:
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
    except PortBusy as busy:
        print(f"chatlab: {busy}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    from loadtests import bench
    from reports import build

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

    report_parser = commands.add_parser("report", help="turn a results folder into a report")
    build.add_arguments(report_parser)
    report_parser.set_defaults(run=build.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
