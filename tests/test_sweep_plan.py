"""What a sweep runs: the scenario's options, the presets, and the plan the command line makes."""

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests import bench, plan
from loadtests.options import ScenarioOptions, register_options

# -- options and plans ---------------------------------------------------------------------


class LocustLikeParser(argparse.ArgumentParser):
    """Takes the one keyword Locust's own parser adds (importing Locust would patch us)."""

    def add_argument(self, *args: Any, include_in_web_ui: bool = True, **kwargs: Any) -> Any:
        return super().add_argument(*args, **kwargs)


def parsed(*argv: str) -> argparse.Namespace:
    parser = LocustLikeParser()
    register_options(parser)
    return parser.parse_args(argv)


def test_the_send_interval_defaults_per_workload():
    assert ScenarioOptions.from_parsed(parsed()).send_interval == 5.0
    assert ScenarioOptions.from_parsed(parsed("--workload=ticker")).send_interval == 1.0
    assert ScenarioOptions.from_parsed(parsed("--send-interval=0.5")).send_interval == 0.5
    with pytest.raises(ValueError, match="room-size"):
        ScenarioOptions.from_parsed(parsed("--room-size=0"))


def test_the_options_default_to_the_scenarios_defaults_and_a_plan_spells_them_back():
    assert ScenarioOptions.from_parsed(parsed()) == ScenarioOptions()
    spec = plan.RunSpec("short_poll", "burst", 5, room_size=3, poll_interval=0.25)
    options = ScenarioOptions.from_parsed(parsed(*spec.locust_options()))
    assert (options.workload, options.room_size, options.poll_interval) == ("burst", 3, 0.25)
    assert options.send_interval == 5.0 and options.burst_size == ScenarioOptions().burst_size


def test_the_quick_preset_is_chat_over_every_transport_at_two_levels():
    quick = plan.quick()
    assert {(s.transport, s.users) for s in quick} == {
        (t, u) for t in plan.TRANSPORTS for u in (50, 200)
    }
    assert {s.workload for s in quick} == {"chat"}


def test_the_default_preset_holds_what_the_report_draws():
    default = plan.default()
    names = [spec.run_name(i) for i, spec in enumerate(default, 1)]
    assert len(set(names)) == len(names)
    chat = {(s.transport, s.users) for s in default if s.workload == "chat" and s.room_size == 10}
    assert all(len({u for t, u in chat if t == transport}) >= 2 for transport in plan.TRANSPORTS)
    ticker = {(s.transport, s.header_profile) for s in default if s.workload == "ticker"}
    assert ticker == {(t, p) for t in plan.TRANSPORTS for p in ("minimal", "browser")}
    intervals = {s.poll_interval for s in default if s.transport == "short_poll"}
    assert len(intervals) >= 3
    assert {s.transport for s in default if s.workload == "idle"} >= {"websocket", "long_poll"}
    assert {s.transport for s in default if s.workload == "burst"} == set(plan.TRANSPORTS)
    assert any((s.server, s.transport) == (plan.BARE, "websocket") for s in default)


def test_choosing_on_the_command_line_makes_every_combination():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--transports", "short_poll,websocket", "--users", "5,10",
                              "--poll-interval", "0.5,2", "--duration", "3"])  # fmt: skip
    name, runs = bench.build_plan(args)
    assert name == "custom"
    assert sorted((s.transport, s.users, s.poll_interval) for s in runs) == [
        ("short_poll", 5, 0.5), ("short_poll", 5, 2.0), ("short_poll", 10, 0.5),
        ("short_poll", 10, 2.0), ("websocket", 5, 1.0), ("websocket", 10, 1.0),
    ]  # fmt: skip
    assert {s.window for s in runs} == {3.0}


def test_backends_and_worker_counts_multiply_chatlabs_runs_and_name_them():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--transports", "websocket,bare_broadcast", "--users", "10",
                              "--backend", "memory,redis", "--workers", "1,2"])  # fmt: skip
    _, runs = bench.build_plan(args)
    made = sorted((s.server, s.backend, s.workers) for s in runs)
    assert made == [("bare_broadcast", "memory", 1), ("chatlab", "memory", 1),
                    ("chatlab", "redis", 1), ("chatlab", "redis", 2)]  # fmt: skip
    names = {s.run_name(1) for s in runs if s.server == "chatlab"}
    assert names == {"01-websocket-chat-u10", "01-websocket-chat-u10-redis-w1",
                     "01-websocket-chat-u10-redis-w2"}  # fmt: skip
    with pytest.raises(SystemExit, match="etcd"):
        bench.build_plan(parser.parse_args(["--backend", "etcd"]))


def test_an_unknown_transport_is_refused():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    with pytest.raises(SystemExit, match="carrier_pigeon"):
        bench.build_plan(parser.parse_args(["--transports", "carrier_pigeon"]))


# -- the sweep's command stays light --------------------------------------------------------


def test_importing_the_sweep_loads_neither_locust_nor_gevent():
    heavy = "('locust', 'gevent', 'geventhttpclient')"
    loaded = f"[m for m in sys.modules if m.split('.')[0] in {heavy}]"
    code = f"import sys, loadtests.bench; print({loaded})"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_a_run_is_a_server_and_one_of_the_transports_it_speaks():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(["--transports", "websocket,bare_broadcast,bare_broadcast:websocket"])
    _, runs = bench.build_plan(args)
    assert {(s.server, s.transport) for s in runs} == {
        ("chatlab", "websocket"),
        ("bare_broadcast", "websocket"),
    }
    names = [spec.run_name(i) for i, spec in enumerate(runs, 1)]
    assert names[:2] == ["01-websocket-chat-u50", "02-bare_broadcast-websocket-chat-u50"]
    assert {s.locustfile for s in runs} == {"ws.py"}
    with pytest.raises(SystemExit, match="bare_broadcast:sse"):
        bench.build_plan(parser.parse_args(["--transports", "bare_broadcast:sse"]))


def test_the_sweep_makes_its_folder_under_the_results_root():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    assert parser.parse_args([]).results_root == Path("results")
    assert parser.parse_args(["--results-root", "elsewhere"]).results_root == Path("elsewhere")
    assert parser.parse_args(["--results-dir", "old"]).results_root == Path("old")  # old name
    assert "--results-dir" not in parser.format_help()
