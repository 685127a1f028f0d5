"""Raw delivery-latency samples of each run, as the sweep keeps them: every delivery inside
the measurement window, in milliseconds, in `<sweep>/<run_id>/latency-<transport>.f32`
(`lab.run_files`), and their way out of the server (from its `at`) in
`from-server-<transport>.f32`. A run without samples is absent from the answer: the CDF plot
then says so and falls back to the row's percentiles.
"""

from collections.abc import Sequence
from pathlib import Path

from lab.results import RunRow
from lab.run_files import LATENCY_FILE, read_latencies
from lab.servers import client_name


def load_samples(
    folder: Path, rows: Sequence[RunRow], kind: str = LATENCY_FILE
) -> dict[str, list[float]]:
    """run_id → latency samples in milliseconds (`kind`: the delivery latencies, or
    lab.run_files.FROM_SERVER_FILE for the way out), for the runs that left any."""
    found = {}
    for row in rows:
        transport = client_name(row.server, row.transport)  # a peer's clients name it theirs
        samples = read_latencies(Path(folder) / row.run_id, transport, kind)
        if samples:
            found[row.run_id] = samples.tolist()
    return found
