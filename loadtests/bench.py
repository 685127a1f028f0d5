"""`chatlab bench`: the sweep. (Being built; see issue 3.)"""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise SystemExit("chatlab bench is not built yet")
