"""What the sweep, the report and the tests share, below all three: the results of a sweep
(`results`, `run_files`), and the server under test in its own process (`server_process`).

Imports nothing from `loadtests`, `reports` or `chatlab`, and nothing heavy (no Flask,
gevent, Locust or matplotlib), so that every layer above may use it.
"""
