"""The boundaries of the packages without I/O: the core imports no Flask, gevent or Locust;
the wire formats import none of them either, nor anything else of the project."""

import json
import subprocess
import sys

FRAMEWORKS = {"flask", "werkzeug", "gevent", "geventwebsocket", "locust", "greenlet"}
PROJECT = {"chat_core", "transports", "loadtests", "reports", "chatlab"}


def loaded_by(module: str) -> set[str]:
    """The top-level packages that importing `module` in a fresh interpreter loads."""
    probe = (
        f"import json, sys, {module}; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    return set(json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True)))


def test_the_core_loads_no_web_framework_event_loop_or_load_tool():
    loaded = loaded_by("chat_core")
    assert "chat_core" in loaded
    assert not loaded & FRAMEWORKS


def test_the_wire_formats_load_no_framework_and_nothing_of_the_project():
    loaded = loaded_by("wire.websocket")
    assert "wire" in loaded
    assert not loaded & (FRAMEWORKS | PROJECT)
