"""The load lab: one chat scenario over every transport, and the sweep that measures it.

- Locustfiles: `short_poll.py`, `long_poll.py`, `sse.py`, `ws.py`, each a one-line user on
  `scenario.ChatUser` with its client from `clients/`.
- Per process: `generator.py` (names, rooms, ledgers, the drain); across processes:
  `coordinator.py` (the measurement window, the summed counts, the exit code). Workers report
  to the master through Locust's messaging; the coordinator writes `lab.run_files`.
- Pure bookkeeping and arithmetic: `ledger.py`, `rooms.py`, `derive.py` (a run's row),
  `targets.py`.
- The sweep (`chatlab bench`): `bench.py`, `plan.py`, `processes.py`, `console.py`,
  `sweep_environment.py`; the baseline server: `bare_broadcast.py`. The rows it writes are
  `lab.results`.
"""
