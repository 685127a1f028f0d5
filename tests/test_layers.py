"""The layers: chat_core ← wire ← transports; chat_core ← lab ← loadtests, reports ← chatlab.

A layer imports nothing from the layers above it, and the shared ones nothing heavy, so that
any part of the project may use them.
"""

import json
import subprocess
import sys

import pytest

HEAVY = {"flask", "werkzeug", "gevent", "geventwebsocket", "locust", "greenlet", "matplotlib"}
PROJECT = {"chat_core", "wire", "transports", "lab", "loadtests", "reports", "chatlab"}


def loaded_by(*modules: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after importing `modules`."""
    probe = (
        f"import json, sys, pkgutil, importlib; import {', '.join(modules)}; "
        "[importlib.import_module(f'{p}.{m.name}') for p in "
        f"{list(modules)!r} for m in pkgutil.iter_modules(sys.modules[p].__path__)]; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    return set(json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True)))


@pytest.mark.parametrize(("package", "below"), [("wire", {"wire"}), ("lab", {"lab", "chat_core"})])
def test_a_shared_package_imports_only_what_is_below_it(package: str, below: set[str]) -> None:
    loaded = loaded_by(package)
    assert package in loaded
    assert not loaded & HEAVY
    assert loaded & PROJECT == below
