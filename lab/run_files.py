"""The files a scenario run leaves in --lab-output, read back by the sweep and the report.

- `scenario.json`: the options, the measurement window, the server's metrics at both ends of
  it, each load generator's CPU, and per transport the counts summed over all processes.
- `latency-<transport>.f32`: every delivery latency inside the window, in milliseconds, as
  raw float32 in the machine's byte order (`array('f').frombytes`);
- `from-server-<transport>.f32`: the same deliveries' time from the server's acceptance (the
  message's `at`) to their arrival, the way out alone, in the same form.
"""

import json
from array import array
from pathlib import Path
from typing import Any

SCENARIO_FILE = "scenario.json"
LATENCY_FILE = "latency-{transport}.f32"
FROM_SERVER_FILE = "from-server-{transport}.f32"


def latency_path(folder: Path, transport: str, kind: str = LATENCY_FILE) -> Path:
    return Path(folder) / kind.format(transport=transport)


def read_latencies(folder: Path, transport: str, kind: str = LATENCY_FILE) -> array:
    """The samples of one transport's `kind` file (LATENCY_FILE or FROM_SERVER_FILE), in ms."""
    samples = array("f")
    path = latency_path(folder, transport, kind)
    if path.exists():
        samples.frombytes(path.read_bytes())
    return samples


def read_scenario(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / SCENARIO_FILE
    return json.loads(path.read_text()) if path.exists() else None


def write_latencies(folder: Path, transport: str, samples: array, kind: str = LATENCY_FILE) -> None:
    """`samples` must be an array('f') of milliseconds."""
    latency_path(folder, transport, kind).write_bytes(samples.tobytes())


def write_output(
    folder: Path,
    summary: dict[str, Any],
    latencies: dict[str, array],
    from_server: dict[str, array] | None = None,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SCENARIO_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    for transport, samples in latencies.items():
        write_latencies(folder, transport, samples)
    for transport, samples in (from_server or {}).items():
        write_latencies(folder, transport, samples, FROM_SERVER_FILE)
