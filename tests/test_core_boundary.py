"""The core's boundary: it imports no Flask, gevent or Locust."""

import json
import subprocess
import sys


def test_the_core_loads_no_web_framework_event_loop_or_load_tool():
    probe = (
        "import json, sys, chat_core; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True)))
    assert "chat_core" in loaded
    assert not loaded & {"flask", "werkzeug", "gevent", "geventwebsocket", "locust", "greenlet"}
