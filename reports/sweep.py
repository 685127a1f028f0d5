"""One sweep's results as the report reads them: rows, capacity runs, environment and raw
samples."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.results import (
    SUMMARY_FILE,
    TARGETS_FILE,
    CapacityRow,
    RunRow,
    read_capacity,
    read_summary,
)
from lab.run_files import FROM_SERVER_FILE

from .samples import load_samples


@dataclass(frozen=True)
class Sweep:
    folder: Path
    environment: dict[str, Any]
    rows: list[RunRow]
    samples: dict[str, list[float]] = field(default_factory=dict)  # run_id → ms
    from_server: dict[str, list[float]] = field(default_factory=dict)  # run_id → ms, way out
    capacity: list[CapacityRow] = field(default_factory=list)  # the capacity runs
    targets: list[dict[str, Any]] = field(default_factory=list)  # targets.json, as evaluated


def load_sweep(folder: Path) -> Sweep:
    folder = Path(folder)
    environment, rows = read_summary(folder)
    targets = folder / TARGETS_FILE
    return Sweep(folder, environment, rows, load_samples(folder, rows),
                 load_samples(folder, rows, FROM_SERVER_FILE), read_capacity(folder),
                 json.loads(targets.read_text()) if targets.is_file() else [])  # fmt: skip


def newest_sweep(root: Path) -> Path | None:
    """The newest sweep's folder under the results root `root` (named by their start time)."""
    root = Path(root)
    if not root.is_dir():
        return None
    folders = [p.parent for p in root.glob(f"*/{SUMMARY_FILE}")]
    if not folders:
        return None
    return max(folders, key=lambda p: (p.name, p.stat().st_mtime))
