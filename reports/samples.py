"""Raw delivery-latency samples of each run, read defensively.

The sweep keeps each run's samples in `<results>/<run_id>/`; their exact file format is the
sweep's choice, so this reader accepts the plain ones (JSON, JSON lines, CSV, one number a
line, raw float32 arrays, .npy; optionally gzipped) and looks for a latency column or key.
A run without readable samples is simply absent from the answer: the CDF plot then says
so and falls back to the row's percentiles.
"""

import csv
import gzip
import io
import json
import math
import statistics
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lab.results import RunRow

_NAME_HINTS = ("latenc", "sample")
_KEY_HINTS = ("latency", "latencies", "samples", "ms", "delay")


def load_samples(folder: Path, rows: Sequence[RunRow]) -> dict[str, list[float]]:
    """run_id → latency samples in milliseconds, for the runs whose samples could be read."""
    found: dict[str, list[float]] = {}
    for row in rows:
        run_dir = Path(folder) / row.run_id
        if not run_dir.is_dir():
            continue
        for path in sorted(run_dir.rglob("*")):
            if path.is_file() and any(hint in path.name.lower() for hint in _NAME_HINTS):
                values = _read(path)
                if values:
                    found[row.run_id] = _in_ms(values, path, row)
                    break
    return found


def _bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _text(path: Path) -> str:
    return _bytes(path).decode("utf-8", errors="replace")


def _read(path: Path) -> list[float]:
    name = path.name.lower().removesuffix(".gz")
    try:
        if name.endswith((".f32", ".float32", ".bin")):  # a raw array('f'), as the ledger keeps
            values = array("f")
            values.frombytes(_bytes(path))
            return _numbers(list(values))
        if name.endswith(".npy"):
            import numpy

            return _numbers(numpy.load(io.BytesIO(_bytes(path))).ravel().tolist())
        text = _text(path)
        if name.endswith(".json"):
            return _numbers(json.loads(text))
        if name.endswith((".jsonl", ".ndjson")):
            return _numbers([json.loads(line) for line in text.splitlines() if line.strip()])
        if name.endswith((".csv", ".tsv")):
            return _from_csv(text, "\t" if name.endswith(".tsv") else ",")
        if name.endswith((".txt", ".dat")) or "." not in name:
            return _numbers([line.strip() for line in text.splitlines() if line.strip()])
    except (OSError, ValueError, EOFError):
        return []
    return []


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _latency_key(keys: Iterable[str]) -> str | None:
    keys = list(keys)
    for hint in _KEY_HINTS:
        for key in keys:
            if hint in key.lower():
                return key
    return None


def _numbers(value: Any) -> list[float]:
    """Numbers from a list of numbers, a list of objects, or an object holding either."""
    if isinstance(value, dict):
        key = _latency_key(value)
        return _numbers(value[key]) if key is not None else []
    if not isinstance(value, list):
        return []
    if value and isinstance(value[0], dict):
        key = _latency_key(value[0])
        if key is None:
            return []
        value = [item.get(key) for item in value if isinstance(item, dict)]
    numbers = (_number(item) for item in value)
    return [n for n in numbers if n is not None]


def _from_csv(text: str, delimiter: str) -> list[float]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return []
    header = rows[0]
    if all(_number(cell) is not None for cell in header):
        column, body = 0, rows  # no header: the first column
    else:
        key = _latency_key(header)
        column, body = (header.index(key) if key is not None else 0), rows[1:]
    numbers = (_number(r[column]) for r in body if len(r) > column)
    return [n for n in numbers if n is not None]


def _in_ms(values: list[float], path: Path, row: RunRow) -> list[float]:
    """Samples in ms: seconds are recognised by the row's own median, or by the file's name."""
    median = statistics.median(values)
    if row.latency_p50_ms and median > 0:
        as_is = abs(math.log(median / row.latency_p50_ms))
        as_seconds = abs(math.log(median * 1000 / row.latency_p50_ms))
        if as_seconds < as_is:
            return [v * 1000 for v in values]
        return values
    if any(mark in path.name.lower() for mark in ("_s.", "seconds", "_sec")):
        return [v * 1000 for v in values]
    return values
