"""The load generator's own clients, driven one user at a time against a live server, each
run in a child process (they need gevent's monkey-patching)."""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_a_websocket_send_right_after_a_cut_waits_for_the_next_connection(server):
    # The dropper's cut and a send in the same turn of gevent's loop: the send must not spend
    # its attempts on the connection that is already dead (that made the drop test flaky).
    done = subprocess.run([sys.executable, str(HERE / "ws_cut_then_send.py"), server.url],
                          capture_output=True, text=True, timeout=60, cwd=HERE.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert "send_failed" not in outcome, outcome
    assert outcome["failures"] == []
    assert outcome["received"] == [outcome["id"]]  # once, over the next connection
    assert outcome["reconnects"] == 1
    assert outcome["resumed"] == 1  # it was sent before the new connection opened
