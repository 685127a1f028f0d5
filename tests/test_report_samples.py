"""Raw latency samples are read from whatever plain format a run folder holds."""

import gzip
import json
from array import array
from pathlib import Path

import pytest
from conftest import synthetic_row

from reports.samples import load_samples

ROW = synthetic_row("websocket", 10, latency_p50_ms=2.0)


def samples_from(tmp_path: Path, name: str, data: bytes, row=ROW) -> list[float] | None:
    run_dir = tmp_path / row.run_id
    run_dir.mkdir()
    (run_dir / name).write_bytes(data)
    return load_samples(tmp_path, [row]).get(row.run_id)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("latencies_ms.json", b"[1.0, 2.0, 3.0]"),
        ("latency.json", b'{"run": "x", "latency_ms": [1, 2, 3]}'),
        ("samples.jsonl", b'{"latency_ms": 1}\n{"latency_ms": 2}\n\n{"latency_ms": 3}\n'),
        ("latency_samples.csv", b"transport,latency_ms\nws,1\nws,2\nws,3\n"),
        ("latency.csv", b"1\n2\n3\n"),
        ("latencies.txt", b"1\n2\n3\n"),
        ("latencies.json.gz", gzip.compress(b"[1, 2, 3]")),
        ("latencies_ms.f32", array("f", [1, 2, 3]).tobytes()),
    ],
)
def test_plain_formats_are_read_in_ms(tmp_path: Path, name: str, data: bytes) -> None:
    assert samples_from(tmp_path, name, data) == [1.0, 2.0, 3.0]


def test_seconds_are_recognised_from_the_rows_median(tmp_path: Path) -> None:
    values = samples_from(tmp_path, "latencies.json", json.dumps([0.001, 0.002, 0.003]).encode())
    assert values == pytest.approx([1.0, 2.0, 3.0])


def test_unreadable_or_absent_samples_leave_the_run_out(tmp_path: Path) -> None:
    assert samples_from(tmp_path, "latencies.json", b"{not json") is None
    other = synthetic_row("sse", 10)
    assert load_samples(tmp_path, [other]) == {}
