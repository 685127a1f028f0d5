"""`chatlab report SWEEP` writes a self-contained report into the sweep's folder."""

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from conftest import ROOT, synthetic_chat_rows, write_synthetic_sweep

from reports.plots import PLOTS


def report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chatlab", "report", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_the_report_lands_in_the_sweeps_folder_and_its_path_is_printed_last(
    synthetic_sweep: Path,
) -> None:
    done = report(str(synthetic_sweep))
    assert done.returncode == 0, done.stderr
    index = synthetic_sweep / "report" / "index.html"
    assert done.stdout.strip().splitlines()[-1] == str(index)
    for spec in PLOTS:
        assert (synthetic_sweep / "report" / f"{spec.name}.png").stat().st_size > 1000
    page = index.read_text()
    assert page.count('src="data:image/png;base64,') == len(PLOTS)
    assert "could not be drawn" not in page
    # viewable offline: nothing is loaded from anywhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page and "<script" not in page


def test_the_claims_are_stated_with_the_computed_ratios(synthetic_sweep: Path) -> None:
    report(str(synthetic_sweep))
    page = (synthetic_sweep / "report" / "index.html").read_text()
    summary = (synthetic_sweep / "report" / "summary.md").read_text()
    for text in (page, summary):
        assert "Polling wastes requests and bandwidth." in text
        assert "12.0× the requests per second" in text
        assert "871" in text and "0.153" in text  # the article's table, beside ours
    assert '<span class="verdict supported">supported</span>' in page
    for spec in PLOTS:
        assert f"]({spec.name}.png)" in summary


def test_invalid_runs_are_shown_as_invalid(tmp_path: Path) -> None:
    rows = [
        replace(r, valid=False, invalid_reasons=["generator CPU 97% > 85%"])
        if r.transport == "long_poll"
        else r
        for r in synthetic_chat_rows()
    ]
    folder = write_synthetic_sweep(tmp_path / "run", rows)
    assert report(str(folder)).returncode == 0
    page = (folder / "report" / "index.html").read_text()
    assert page.count('<tr class="invalid">') == 2
    assert "INVALID: generator CPU 97% &gt; 85%" in page
    assert "2 marked invalid" in page
    assert '<span class="verdict inconclusive">inconclusive</span>' in page


def test_without_an_argument_the_newest_sweep_is_used(tmp_path: Path) -> None:
    root = tmp_path / "results"
    write_synthetic_sweep(root / "20000101T000000Z", synthetic_chat_rows())
    newest = write_synthetic_sweep(root / "20000102T000000Z", synthetic_chat_rows((10,)))
    done = report("--results-root", str(root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(newest / "report" / "index.html")


def test_a_folder_without_results_is_refused_with_a_sentence(tmp_path: Path) -> None:
    done = report(str(tmp_path))
    assert done.returncode == 1
    assert "holds no summary.json" in done.stderr
    done = report("--results-root", str(tmp_path / "nothing"))
    assert done.returncode == 1
    assert "run `chatlab bench` first" in done.stderr


def test_building_the_cli_parser_does_not_import_matplotlib() -> None:
    probe = "import sys; from chatlab.cli import build_parser; build_parser(); "
    probe += "print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_a_plot_that_fails_is_reported_in_place_and_the_rest_still_built(
    synthetic_sweep: Path, monkeypatch
) -> None:
    from reports import render
    from reports.build import build_report
    from reports.plots import PlotSpec

    def broken(ax, sweep):
        raise ValueError("no such column")

    monkeypatch.setattr(render, "PLOTS", (PlotSpec("broken", "Broken", broken), *PLOTS))
    page = build_report(synthetic_sweep).read_text()
    assert "This plot could not be drawn: ValueError: no such column" in page
    assert page.count('src="data:image/png;base64,') == len(PLOTS) + 1


def test_the_page_and_the_summary_show_the_same_overhead_table(synthetic_sweep: Path) -> None:
    import html

    from reports.overhead import header_table
    from reports.sweep import load_sweep
    from reports.tables import overhead_table

    report(str(synthetic_sweep))
    page = (synthetic_sweep / "report" / "index.html").read_text()
    summary = (synthetic_sweep / "report" / "summary.md").read_text()
    table = overhead_table(header_table(load_sweep(synthetic_sweep).rows))
    assert len(table.rows) == 4  # two published lines, two measured
    for cells in table.rows:
        assert "| " + " | ".join(cells) + " |" in summary
        assert "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) in page


def test_the_backplane_section_compares_each_redis_run_with_its_memory_run(tmp_path: Path):
    from conftest import synthetic_row, write_synthetic_sweep

    from reports.backplane import backplane_cost

    common = {"sent": 100, "expected": 900, "delivered": 900, "latency_p50_ms": 1.0,
              "latency_p99_ms": 3.0}  # fmt: skip
    rows = [
        synthetic_row("websocket", 100, **common, server_cpu_per_msg_us=50.0),
        synthetic_row("websocket", 100, **common, run_id="synthetic-redis", backend="redis",
                      workers=2, server_cpu_per_msg_us=120.0, redis_cpu_per_msg_us=30.0),
    ]  # fmt: skip
    (line, cores) = backplane_cost(rows)
    assert "120.0 µs of chatlab CPU and 30.0 µs of Redis CPU" in line
    assert "150.0 µs in all (memory backend: 50.0 µs, +100.0 µs" in line
    assert "2 worker(s)" in line and "share the server's cores" in cores
    assert backplane_cost(rows[:1]) == []  # no Redis run, no section
    folder = write_synthetic_sweep(tmp_path / "sweep", rows, samples=False)
    from reports.build import build_report

    index = build_report(folder)
    assert "What the Redis backplane costs per message" in index.read_text()
    assert "What the Redis backplane costs" in (index.parent / "summary.md").read_text()
