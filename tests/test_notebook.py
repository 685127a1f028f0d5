"""The classroom notebook runs headless from the project's venv and draws its plots.

It is stored without outputs; executed copies go to the test's temporary folder, never
beside the notebook.
"""

import json
from pathlib import Path

import nbformat
import pytest
from conftest import (
    ROOT,
    synthetic_capacity_rows,
    synthetic_chat_rows,
    synthetic_network_rows,
    synthetic_peer_rows,
    write_synthetic_sweep,
)
from nbclient import NotebookClient

NOTEBOOK = ROOT / "notebooks" / "chatlab_walkthrough.ipynb"
PLOT_CELLS = 11  # one per plot function of reports.plots


def execute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, results_root: Path) -> dict:
    # the kernel inherits this process's environment; the inline backend keeps the images
    # that MPLBACKEND=Agg would drop (GOTCHAS, "Notebooks")
    monkeypatch.setenv("CHATLAB_RESULTS_ROOT", str(results_root))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where a live run's scratch sweep goes
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    nbformat.write(notebook, tmp_path / "executed.ipynb")
    return notebook


def outputs(notebook: dict, kind: str) -> list:
    found = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if kind == "image/png" and kind in output.get("data", {}):
                found.append(output["data"][kind])
            elif kind == "text" and output.get("output_type") == "stream":
                found.append(output["text"])
            elif kind == "error" and output.get("output_type") == "error":
                found.append(output)
    return found


def test_notebook_is_stored_without_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_notebook_runs_on_the_newest_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "results"
    write_synthetic_sweep(root / "19990101T000000Z", synthetic_chat_rows((10,)))
    chat = synthetic_chat_rows()
    newest_rows = chat + synthetic_network_rows() + synthetic_peer_rows(chat)
    newest = write_synthetic_sweep(root / "20000101T000000Z", newest_rows,
                                   capacity=synthetic_capacity_rows())  # fmt: skip
    notebook = execute(tmp_path, monkeypatch, root)

    assert not outputs(notebook, "error")
    assert len(outputs(notebook, "image/png")) == PLOT_CELLS
    text = "".join(outputs(notebook, "text"))
    # part 1 captured real exchanges from a live server
    assert "HTTP/1.1 101 Switching Protocols" in text
    assert '{"messages":[],"cursor":' in text
    # part 2 read the newest sweep, judged the claims and built the report
    assert f"{len(newest_rows)} runs from {newest}" in text
    assert "“Polling wastes requests and bandwidth.” — SUPPORTED" in text
    # part 3: the argument over a network, theory beside it
    assert "“WebSocket and SSE cost one transit.” — SUPPORTED" in text
    assert "No runs over an emulated link" not in text
    # part 4: chatlab beside Flask-SocketIO, and the capacity runs
    assert "“Once users come in numbers, long polling's server cost is fatal.” — SUPPORTED" in text
    assert "no capacity runs" not in text
    assert (newest / "report" / "index.html").is_file()
    assert not (NOTEBOOK.parent / "executed.ipynb").exists()


def test_notebook_runs_a_small_live_sweep_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute(tmp_path, monkeypatch, tmp_path / "no-results-here")

    assert not outputs(notebook, "error")
    assert len(outputs(notebook, "image/png")) == PLOT_CELLS - 1  # no capacity runs to draw
    text = "".join(outputs(notebook, "text"))
    assert "This sweep has no capacity runs: the default preset" in text
    # four runs of 20 users (the notebook's own small sweep), and claims computed from them
    assert "4 runs from " in text
    assert text.count("At 20 users (chat)") == 3
