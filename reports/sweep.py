"""One sweep's results as the report reads them: rows, environment and raw samples."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.results import SUMMARY_FILE, RunRow, read_summary

from .samples import load_samples


@dataclass(frozen=True)
class Sweep:
    folder: Path
    environment: dict[str, Any]
    rows: list[RunRow]
    samples: dict[str, list[float]] = field(default_factory=dict)  # run_id → ms


def load_sweep(folder: Path) -> Sweep:
    folder = Path(folder)
    environment, rows = read_summary(folder)
    return Sweep(folder, environment, rows, load_samples(folder, rows))


def newest_sweep(root: Path) -> Path | None:
    """The newest sweep's folder under the results root `root` (named by their start time)."""
    root = Path(root)
    if not root.is_dir():
        return None
    folders = [p.parent for p in root.glob(f"*/{SUMMARY_FILE}")]
    if not folders:
        return None
    return max(folders, key=lambda p: (p.name, p.stat().st_mtime))
