"""The layers: chat_core ← chat_redis, wire ← transports; chat_core ← lab, link ← loadtests,
reports ← chatlab.

A layer imports nothing from the layers above it, and the shared ones nothing heavy, so that
any part of the project may use them.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from source_imports import absolute_imports

ROOT = Path(__file__).resolve().parent.parent
HEAVY = {"flask", "werkzeug", "gevent", "geventwebsocket", "locust", "greenlet", "matplotlib"}
# What each package may import from the project, besides itself: whole packages, or single
# modules (the servers read their own CPU, memory and wire bytes the one way the lab does).
MAY_IMPORT = {
    "chat_core": set(),
    "chat_redis": {"chat_core"},
    "wire": set(),
    "lab": {"chat_core"},
    "link": {"lab.announced_child", "lab.process_usage"},
    "transports": {
        "chat_core",
        "chat_redis",
        "wire",
        "lab.collector",
        "lab.process_usage",
        "lab.wire_bytes",
    },  # fmt: skip
    "loadtests": {"chat_core", "wire", "lab", "link"},
    "reports": {"chat_core", "wire", "lab", "link"},
    "chatlab": {
        "chat_core",
        "chat_redis",
        "wire",
        "lab",
        "link",
        "transports",
        "loadtests",
        "reports",
    },  # fmt: skip
}


# The lab's peer server (loadtests/socketio_server.py) runs on these; the chat server never.
PEER_ONLY = {"flask_socketio", "socketio", "engineio"}


def imports(package: str) -> set[str]:
    """Every absolute import in `package`'s files, as written."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        found |= set(absolute_imports(path))
    return found


def project_imports(package: str) -> set[str]:
    """Every module of the project's other packages that `package`'s files import."""
    return {n for n in imports(package) if n.split(".")[0] in MAY_IMPORT.keys() - {package}}


@pytest.mark.parametrize("package", MAY_IMPORT)
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    allowed = MAY_IMPORT[package]
    refused = {
        name
        for name in project_imports(package)
        if not any(name == a or name.startswith(f"{a}.") for a in allowed)
    }
    assert not refused, f"{package} imports {sorted(refused)}"


def loaded_by(*modules: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after importing `modules`, every
    submodule of each included."""
    probe = (
        f"import json, sys, pkgutil, importlib; import {', '.join(modules)}; "
        "[importlib.import_module(f'{p}.{m.name}') for p in "
        f"{list(modules)!r} for m in pkgutil.iter_modules(sys.modules[p].__path__)]; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    return set(json.loads(subprocess.check_output([sys.executable, "-c", probe], text=True)))


@pytest.mark.parametrize("package", ["wire", "lab", "chat_redis"])
def test_a_shared_package_loads_nothing_heavy(package: str) -> None:
    loaded = loaded_by(package)
    assert package in loaded
    assert not loaded & HEAVY


@pytest.mark.parametrize("package", ["chat_core", "wire", "transports"])
def test_the_chat_server_never_imports_the_peer_servers_libraries(package: str) -> None:
    written = {name.split(".")[0] for name in imports(package)}
    assert not written & PEER_ONLY
    assert not loaded_by(package) & PEER_ONLY


def test_the_peer_server_is_built_on_them() -> None:
    # the rule above guards something real: the lab's own modules do load them
    assert "flask_socketio" in {n.split(".")[0] for n in imports("loadtests")}
