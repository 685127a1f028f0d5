"""Raw latency samples are read from the files the sweep writes, and from nothing else."""

from array import array
from pathlib import Path

from conftest import synthetic_row

from lab.run_files import write_latencies
from reports.samples import load_samples

ROW = synthetic_row("websocket", 10, latency_p50_ms=2.0)


def run_dir(tmp_path: Path, row=ROW) -> Path:
    folder = tmp_path / row.run_id
    folder.mkdir()
    return folder


def test_the_sweeps_latency_file_is_read_in_ms(tmp_path: Path) -> None:
    write_latencies(run_dir(tmp_path), "websocket", array("f", [1.0, 2.5, 3.0]))
    assert load_samples(tmp_path, [ROW]) == {ROW.run_id: [1.0, 2.5, 3.0]}


def test_the_baselines_samples_are_under_the_transport_its_clients_spoke(tmp_path: Path) -> None:
    bare = synthetic_row("websocket", 10, server="bare_broadcast")
    write_latencies(run_dir(tmp_path, bare), "websocket", array("f", [4.0]))
    assert load_samples(tmp_path, [bare]) == {bare.run_id: [4.0]}


def test_other_files_or_absent_samples_leave_the_run_out(tmp_path: Path) -> None:
    folder = run_dir(tmp_path)
    (folder / "latencies_ms.json").write_text("[1.0, 2.0, 3.0]")  # not a format the sweep writes
    write_latencies(folder, "sse", array("f", [1.0]))  # another transport's file
    write_latencies(folder, "websocket", array("f"))  # a run that measured nothing
    assert load_samples(tmp_path, [ROW]) == {}
    assert load_samples(tmp_path, [synthetic_row("sse", 10, run_id="elsewhere")]) == {}
