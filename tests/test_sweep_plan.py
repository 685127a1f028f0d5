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


def bench_parser() -> argparse.ArgumentParser:
    """`chatlab bench`'s own arguments."""
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser


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


def test_the_quick_preset_holds_every_part_of_the_argument():
    quick = plan.quick()
    names = [spec.run_name(i) for i, spec in enumerate(quick, 1)]
    assert len(set(names)) == len(names)
    loopback = [s for s in quick if not s.linked]
    everyday = [s for s in loopback if s.server == "chatlab" and s.poll_interval == 1.0]
    chat = {(s.transport, s.users) for s in everyday if s.workload == "chat"}
    assert chat == {(t, u) for t in plan.TRANSPORTS for u in (50, 200)}
    ticker = {(s.transport, s.header_profile) for s in loopback if s.workload == "ticker"}
    assert ticker == {(t, p) for t in plan.TRANSPORTS for p in ("minimal", "browser")}
    # the poll-interval figure: three intervals or more at one user count
    intervals = {s.poll_interval for s in loopback if s.transport == "short_poll"
                 and s.workload == "chat" and s.users == 50}  # fmt: skip
    assert len(intervals) >= 3
    # the baseline under the load of one of the chat runs over WebSocket
    bare = [s for s in quick if s.server == plan.BARE]
    assert [(s.workload, s.users, s.linked) for s in bare] == [("chat", 200, False)]
    # the network: every transport over a round trip, a new connection per poll, bursts
    linked = [s for s in quick if s.linked]
    assert {s.rtt_ms for s in linked} == {plan.QUICK_RTT_MS} and plan.QUICK_RTT_MS > 0
    assert {s.transport for s in linked if s.workload == "chat" and not s.new_connection} == set(
        plan.TRANSPORTS
    )
    assert any(s.transport == "short_poll" and s.new_connection for s in linked)
    bursts = {(s.transport, s.new_connection) for s in linked if s.workload == "burst"}
    assert bursts == {("long_poll", False), ("long_poll", True)}
    # a budget of windows that leaves `make compare` its four minutes (runs cost ~2-3 s more)
    assert sum(s.window for s in quick) <= 80


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
    parser = bench_parser()
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
    parser = bench_parser()
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
    parser = bench_parser()
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
    parser = bench_parser()
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
    parser = bench_parser()
    assert parser.parse_args([]).results_root == Path("results")
    assert parser.parse_args(["--results-root", "elsewhere"]).results_root == Path("elsewhere")
    assert parser.parse_args(["--results-dir", "old"]).results_root == Path("old")  # old name
    assert "--results-dir" not in parser.format_help()


# -- the network knobs ---------------------------------------------------------------------


def plan_of(*argv: str) -> list:
    return bench.build_plan(bench_parser().parse_args(list(argv)))[1]


def test_rtt_runs_every_run_of_the_plan_through_a_link_of_each_round_trip():
    runs = plan_of("--transports", "short_poll,websocket", "--users", "5", "--rtt", "0,50")
    assert sorted((s.transport, s.rtt_ms) for s in runs) == [
        ("short_poll", 0.0), ("short_poll", 50.0), ("websocket", 0.0), ("websocket", 50.0),
    ]  # fmt: skip
    assert all(s.linked for s in runs)
    names = {spec.run_name(i) for i, spec in enumerate(runs, 1)}
    assert {"01-short_poll-chat-u5-rtt0", "02-short_poll-chat-u5-rtt50"} <= names
    assert not any(s.linked for s in plan_of("--transports", "websocket"))


def test_a_preset_with_rtt_has_its_own_round_trips_replaced_and_no_run_twice():
    runs = plan_of("--quick", "--rtt", "20")
    assert {s.rtt_ms for s in runs} == {20.0}
    assert len(runs) == len(set(runs)) < len(plan.quick())  # quick's chat at 50 users, once
    assert all("100 ms" not in s.label for s in runs)


def test_jitter_rate_and_a_new_connection_shape_the_runs_they_apply_to():
    runs = plan_of("--transports", "short_poll,sse,websocket", "--users", "5", "--rtt", "40",
                   "--jitter", "5", "--rate", "800", "--new-connection")  # fmt: skip
    assert {(s.jitter_ms, s.rate_kbit) for s in runs} == {(5.0, 800.0)}
    assert {s.transport: s.new_connection for s in runs} == {
        "short_poll": True, "sse": True, "websocket": False,
    }  # fmt: skip
    spec = next(s for s in runs if s.transport == "short_poll")
    assert spec.link_options() == ["--jitter", "5", "--rate", "800"]
    assert "--new-connection-per-request" in spec.locust_options()
    assert spec.run_name(1) == "01-short_poll-chat-u5-rtt40-jitter5-rate800-newconn"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--rtt", "-5"], "--rtt takes milliseconds ≥ 0, not '-5'"),
        (["--rtt", "fast"], "--rtt takes milliseconds ≥ 0, not 'fast'"),
        (["--transports", "websocket", "--jitter", "5"], "--jitter and --rate shape a link"),
        (["--rtt", "10", "--rate", "0"], "--rate must be > 0"),
    ],
)
def test_bad_network_options_are_refused_with_a_sentence(argv: list, words: str):
    with pytest.raises(SystemExit, match=words):
        plan_of(*argv)


def test_a_new_connection_per_request_is_a_flag_of_the_scenario():
    assert ScenarioOptions.from_parsed(parsed()).new_connection_per_request is False
    options = ScenarioOptions.from_parsed(parsed("--new-connection-per-request"))
    assert options.new_connection_per_request is True
    from loadtests.options import command_line

    assert command_line(new_connection_per_request=True) == ["--new-connection-per-request"]
    assert command_line(new_connection_per_request=False) == []
    # the web UI hands a checkbox's value over as text
    ui = argparse.Namespace(new_connection_per_request="false")
    assert ScenarioOptions.from_parsed(ui).new_connection_per_request is False
    ui.new_connection_per_request = "true"
    assert ScenarioOptions.from_parsed(ui).new_connection_per_request is True


# -- Flask-SocketIO as a peer, and capacity ------------------------------------------------


def test_flask_socketio_is_chosen_by_its_clients_names_and_runs_its_own_locustfiles():
    runs = plan_of("--transports", "socketio_polling,socketio_websocket,long_poll", "--users", "5")
    assert [(s.server, s.transport, s.locustfile) for s in runs] == [
        ("flask_socketio", "long_poll", "socketio_polling.py"),
        ("flask_socketio", "websocket", "socketio_websocket.py"),
        ("chatlab", "long_poll", "long_poll.py"),
    ]  # fmt: skip
    assert [s.client for s in runs] == ["socketio_polling", "socketio_websocket", "long_poll"]
    assert runs[0].run_name(1) == "01-flask_socketio-long_poll-chat-u5"
    assert plan_of("--transports", "flask_socketio:websocket")[0].client == "socketio_websocket"
    # a new connection per poll is chatlab's clients' knob only
    fresh = plan_of("--transports", "socketio_polling,long_poll", "--users", "5",
                    "--new-connection")  # fmt: skip
    assert [s.new_connection for s in fresh] == [False, True]


def test_the_presets_run_each_transport_beside_its_flask_socketio_counterpart():
    quick = [s for s in plan.quick() if s.server == "flask_socketio"]
    assert [(s.transport, s.workload, s.users, s.window) for s in quick] == [
        ("long_poll", "chat", 200, 2.5), ("websocket", "chat", 200, 2.5),
    ]  # fmt: skip
    default = plan.default()
    peers = {(s.transport, s.users, s.room_size) for s in default
             if s.server == "flask_socketio" and s.capacity is None}  # fmt: skip
    chatlab = {(s.transport, s.users, s.room_size) for s in default if s.server == "chatlab"}
    assert peers == {("long_poll", 300, 10), ("websocket", 300, 10), ("long_poll", 1000, 10),
                     ("websocket", 1000, 10), ("websocket", 100, 100)}  # fmt: skip
    assert peers <= chatlab  # each under a load chatlab's transport runs too
    room = {s.server for s in default if s.room_size == 100}
    assert room == {"chatlab", "bare_broadcast", "flask_socketio"}
    targets = {(s.server, s.transport) for s in plan.targets() if s.server == "flask_socketio"}
    assert targets == {("flask_socketio", "long_poll"), ("flask_socketio", "websocket")}


def test_the_default_preset_ends_with_a_capacity_run_per_transport_of_both_servers():
    capacity = [s for s in plan.default() if s.capacity is not None]
    assert {(s.server, s.transport) for s in capacity} == {
        *(("chatlab", t) for t in plan.TRANSPORTS),
        ("flask_socketio", "long_poll"), ("flask_socketio", "websocket"),
    }  # fmt: skip
    assert all(s.workload == "chat" and s.capacity == plan.CAPACITY_STEPS for s in capacity)
    assert plan.default()[-len(capacity) :] == capacity
    assert capacity[0].run_name(40) == "40-short_poll-chat-capacity"


def test_capacity_takes_its_steps_from_users_and_its_hold_from_duration(tmp_path: Path):
    assert len(plan_of("--capacity")) == 6
    chosen = ["--transports", "websocket,socketio_polling", "--users", "10,40"]
    runs = plan_of("--capacity", *chosen, "--duration", "1.5", "--send-interval", "0.5",
                   "--rtt", "100")  # fmt: skip
    assert [(s.server, s.capacity, s.window, s.rtt_ms) for s in runs] == [
        ("chatlab", (10, 2.0, 40), 1.5, None), ("flask_socketio", (10, 2.0, 40), 1.5, None),
    ]  # fmt: skip
    arguments = bench.locust_arguments(runs[1], "http://127.0.0.1:1", tmp_path)
    assert arguments[1].endswith("loadtests/socketio_polling.py,"
                                 f"{bench.LOADTESTS / plan.CAPACITY_SHAPE}")  # fmt: skip
    assert "-u" not in arguments and "-t" not in arguments
    assert {"--capacity-start=10", "--capacity-largest=40", "--capacity-hold=1.5",
            "--lab-window=0", "--capacity-p99-ms=250"} <= set(arguments)  # fmt: skip
    # short polling's messages wait up to an interval by design: its limit is that much more
    polls = plan_of("--capacity", "--transports", "short_poll", "--users", "10")[0]
    assert "--capacity-p99-ms=1250" in bench.locust_arguments(polls, "http://x", tmp_path)
    # the sweep waits for every step's longest set-up, settling, hold and drain
    assert 3 * (0.5 + 1.5 + 30) < bench.time_limit(runs[1], arguments) < 300
    with pytest.raises(SystemExit):
        plan_of("--capacity", "--quick")
