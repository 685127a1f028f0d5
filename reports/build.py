"""`chatlab report RESULTS_DIR`. (Being built; see issue 4.)"""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("chatlab report is not built yet")
