"""What the sweep, the report and the tests share, below all three: the results of a sweep
(`results`, `run_files`), the server under test in its own process (`server_process`) and
its counters (`server_metrics`), and how a process reads its own CPU and memory
(`process_usage`, which the servers use for their `/api/metrics` too), and the garbage
collector's settings of a serving process (`collector`).

Imports nothing from the rest of the project and nothing heavy (no Flask, gevent, Locust or
matplotlib), so that every layer may use it.
"""
