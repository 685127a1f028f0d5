"""A sweep's summary files: written, read back, and still readable when older."""

from conftest import synthetic_row

from lab.results import RunRow, read_summary, write_summary


def test_summaries_round_trip_and_old_rows_still_load(tmp_path):
    row = synthetic_row("websocket", 100, run_id="r1", invalid_reasons=["a", "b"], valid=False)
    write_summary(tmp_path, {"cores": 2}, [row])
    environment, rows = read_summary(tmp_path)
    assert environment == {"cores": 2} and rows == [row]
    old = {k: v for k, v in row.as_dict().items() if k not in ("label", "window_s", "bare_run_id")}
    assert RunRow.from_dict(old).window_s is None
    assert "a; b" in (tmp_path / "summary.csv").read_text()


def test_an_old_baseline_row_loads_as_the_bare_server_over_websocket(tmp_path):
    row = synthetic_row("websocket", 100, run_id="bare", server="bare_broadcast")
    old = {k: v for k, v in row.as_dict().items() if k != "server"}
    old["transport"] = "bare_broadcast"  # how summaries named the baseline before `server`
    loaded = RunRow.from_dict(old)
    assert (loaded.server, loaded.transport) == ("bare_broadcast", "websocket")
    assert RunRow.from_dict({**old, "transport": "sse"}).server == "chatlab"


def test_capacity_runs_round_trip_beside_the_rows_and_old_summaries_have_none(tmp_path):
    import json

    from conftest import synthetic_capacity_rows

    from lab.results import read_capacity

    capacity = synthetic_capacity_rows()
    row = synthetic_row("websocket", 100, run_id="r1")
    write_summary(tmp_path, {}, [row], capacity)
    assert read_capacity(tmp_path) == capacity and read_summary(tmp_path)[1] == [row]
    assert "synthetic-chatlab" not in (tmp_path / "summary.csv").read_text()  # rows only
    summary = json.loads((tmp_path / "summary.json").read_text())
    del summary["capacity"]  # a summary from before capacity runs
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    assert read_capacity(tmp_path) == []
