"""Capacity: the step plan and the judgment of each step (pure), and short real stepped runs
of Locust against chatlab's server."""

import json

import pytest
from test_locust_runs import locust

from loadtests.capacity import (
    GENERATOR,
    MACHINE,
    P99_LIMIT_MS,
    PLAN,
    SERVER,
    StepMeasure,
    capacity,
    judge,
    step_users,
)


def step(users: int, **fields) -> StepMeasure:
    """A step that counts, with one field or more changed."""
    values = dict(users=users, ready=users, seconds=10.0, delivered=1000,
                  latencies_ms=[5.0] * 990 + [40.0] * 10, server_cpu_seconds=4.0,
                  generator_cpu_seconds=3.0)  # fmt: skip
    values.update(fields)
    return StepMeasure(**values)


def test_steps_grow_by_the_factor_in_whole_rooms_up_to_the_largest():
    assert step_users(50, 2, 800) == [50, 100, 200, 400, 800]
    assert step_users(50, 2, 799) == [50, 100, 200, 400]
    assert step_users(25, 2, 400, multiple=10) == [30, 50, 100, 200, 400]
    assert step_users(1, 1.1, 5) == [1, 2, 3, 4, 5]  # at least one more each step
    for bad in ((0, 2, 10), (10, 1, 100), (20, 2, 10)):
        with pytest.raises(ValueError):
            step_users(*bad)


def test_a_step_counts_within_every_limit():
    verdict = judge(step(100))
    assert verdict.counted and verdict.reasons == ()
    assert verdict.p99_ms == 5.0 and verdict.p50_ms == 5.0
    assert verdict.server_cpu_percent == 40.0 and verdict.generator_cpu_percent == 30.0
    assert verdict.deliveries_per_s == 100.0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"latencies_ms": [5.0] * 98 + [300.0] * 2}, "p99 300 ms, over 250 ms"),
        ({"lost": 3}, "3 deliveries lost"),
        ({"failures": 2}, "2 requests failed"),
        ({"server_cpu_seconds": 9.6}, "the server's core full (96%)"),
        ({"server_cpu_seconds": None}, "the server's CPU could not be read"),
        ({"ready": 90}, "only 90 of 100 users set up"),
        ({"delivered": 0, "latencies_ms": []}, "nothing was delivered in the step"),
        ({"generator_cpu_seconds": 8.6}, "the load generator at 86% of its core (limit 85%)"),
    ],
)
def test_a_step_does_not_count_past_any_limit(fields, reason):
    verdict = judge(step(100, **fields))
    assert not verdict.counted
    assert verdict.reasons == (reason,)
    assert verdict.generator_limited == ("generator_cpu_seconds" in fields)


def test_the_p99_limit_is_inclusive_and_can_be_changed():
    at_limit = step(100, latencies_ms=[P99_LIMIT_MS] * 100)
    assert judge(at_limit).counted
    assert not judge(at_limit, p99_limit_ms=100).counted


def test_the_largest_step_that_counted_is_the_servers_capacity():
    verdicts = [judge(step(50)), judge(step(100)), judge(step(200, server_cpu_seconds=9.9))]
    result = capacity(verdicts)
    assert (result.users, result.at_least, result.stopped_by) == (100, False, SERVER)
    assert result.sentence() == "100 users; at 200: the server's core full (99%) (the server)"
    assert len(result.steps) == 3


def test_when_the_generator_runs_out_first_the_capacity_is_at_least_the_last_count():
    # the server's core was full too, but a saturated generator makes the step its measure
    verdicts = [judge(step(50)), judge(step(100, generator_cpu_seconds=9.0,
                                             server_cpu_seconds=9.9))]  # fmt: skip
    result = capacity(verdicts)
    assert (result.users, result.at_least, result.stopped_by) == (50, True, GENERATOR)
    assert result.sentence().startswith("at least 50 users; at 100: ")
    assert result.sentence().endswith("(the load generator ran out first)")


def test_a_plan_that_never_fails_gives_at_least_its_largest_step():
    result = capacity([judge(step(50)), judge(step(100))])
    assert (result.users, result.at_least, result.stopped_by) == (100, True, PLAN)
    assert "at least 100 users" in result.sentence()


def test_a_first_step_that_fails_holds_nobody():
    result = capacity([judge(step(50, lost=1)), judge(step(100))])
    assert (result.users, result.at_least, result.stopped_by) == (0, False, SERVER)
    assert len(result.steps) == 1  # judged up to the first that did not count
    assert result.sentence() == "no step counted; at 50: 1 deliveries lost (the server)"
    assert result.as_dict()["sentence"] == result.sentence()


# Rooms of 3, a message every 0.3 s each, steps of 3, 6 and 12 users measured 1.5 s each.
STEPS = ["--room-size=3", "--send-interval=0.3", "--capacity-start=3", "--capacity-largest=12",
         "--capacity-hold=1.5", "--capacity-settle=0.5", "--capacity-drain=2"]  # fmt: skip


def test_a_short_capacity_run_steps_up_and_measures_every_step(server, tmp_path):
    run = locust(server.url, ["ws.py", "capacity_shape.py"], tmp_path, *STEPS)
    assert run.exit_code == 0, run.output[-3000:]
    report = json.loads((tmp_path / "capacity.json").read_text())
    assert report["plan"] == [3, 6, 12]
    result = report["result"]
    assert (result["users"], result["at_least"], result["stopped_by"]) == (12, True, "plan")
    steps = result["steps"]
    assert [s["users"] for s in steps] == [3, 6, 12]
    for measured in steps:
        assert measured["counted"] and measured["lost"] == 0
        # each user sends ~3.3 a second to a room of 3: ~10 deliveries a second per user
        assert 5 * measured["users"] < measured["deliveries_per_s"] < 15 * measured["users"]
        assert 0 < measured["p50_ms"] <= measured["p99_ms"] < P99_LIMIT_MS
        assert 0 < measured["server_cpu_percent"] < 95
        assert 0 < measured["generator_cpu_percent"] < 85
    assert "chatlab capacity: at least 12 users" in run.output
    assert run.counts("websocket")["lost"] == 0  # the run's own ledger agrees


def test_a_capacity_run_stops_at_the_first_step_that_does_not_count(server, tmp_path):
    # no delivery is ever that fast: the first step fails, and the run ends there
    run = locust(server.url, ["long_poll.py", "capacity_shape.py"], tmp_path, *STEPS,
                 "--capacity-p99-ms=0.001")  # fmt: skip
    result = json.loads((tmp_path / "capacity.json").read_text())["result"]
    # the server's wall, or the machine's when other processes crowd its core (it is shared)
    assert result["users"] == 0 and result["stopped_by"] in ("server", "machine")
    assert len(result["steps"]) == 1 and result["steps"][0]["reasons"][0].startswith("p99 ")
    assert "chatlab capacity: no step counted; at 3: p99" in run.output


def test_when_other_processes_take_the_servers_core_the_capacity_is_at_least_the_last_count():
    # the core 99% busy in all while the server had 40% of it: a shared machine's step
    crowded = step(100, latencies_ms=[900.0] * 100, core_busy_seconds=9.9)
    verdict = judge(crowded)
    assert verdict.machine_limited and not verdict.counted
    assert verdict.reasons == ("p99 900 ms, over 250 ms",
                               "other processes on the server's core (99% busy in all, 40% the "
                               "server's)")  # fmt: skip
    result = capacity([judge(step(50, core_busy_seconds=5.0)), verdict])
    assert (result.users, result.at_least, result.stopped_by) == (50, True, MACHINE)
    assert result.sentence().endswith("(other processes took the server's core)")
    # a crowded core alone does not make a step fail; others' share under a quarter is noise
    assert judge(step(100, core_busy_seconds=9.9)).counted
    alone = judge(step(100, server_cpu_seconds=9.6, core_busy_seconds=9.9))
    assert not alone.machine_limited and capacity([alone]).stopped_by == SERVER
    slow = judge(step(100, latencies_ms=[900.0] * 100, core_busy_seconds=6.4))
    assert not slow.machine_limited and capacity([slow]).stopped_by == SERVER
    # the core not full, yet others had 50% of it: the server waited for its core
    shared = judge(step(100, latencies_ms=[900.0] * 100, core_busy_seconds=9.0))
    assert shared.machine_limited and capacity([shared]).stopped_by == MACHINE
