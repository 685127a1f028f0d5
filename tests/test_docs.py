"""docs/PROTOCOL.md and docs/MEASURING.md are the source of truth: they must name what the
code has (every route, error code, close code, setting, workload and option), and their
links must lead somewhere."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import WebsocketMismatch

from chat_core import ErrorCode
from lab.results import TCPIP_HEADER_BYTES_ESTIMATE
from lab.run_files import LATENCY_FILE, SCENARIO_FILE
from loadtests.derive import GENERATOR_CPU_LIMIT
from loadtests.options import WORKLOADS, register_options
from loadtests.plan import PRESETS
from transports import create_app
from transports.config import Config
from wire.websocket import CloseCode

DOCS = ROOT / "docs"
PROTOCOL = (DOCS / "PROTOCOL.md").read_text()
MEASURING = (DOCS / "MEASURING.md").read_text()
MARKDOWN = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
_ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)")


def settings_table() -> dict[str, str]:
    """The Settings section's rows: name → default, as written."""
    section = PROTOCOL.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| `([^`]*)` \|", section, flags=re.MULTILINE)
    return dict(rows)


def test_every_setting_is_in_the_settings_table_with_its_default():
    settings = {name: value for name, value in vars(Config).items() if name.isupper()}
    documented = settings_table()
    assert set(documented) == set(settings)
    for name, value in settings.items():
        assert json.loads(documented[name]) == value, name


def test_every_error_code_is_named_with_its_status():
    for code in ErrorCode:
        assert f"`{code.status} {code}`" in PROTOCOL, code


def test_every_websocket_close_code_the_server_sends_is_explained():
    sources = (ROOT / "transports" / "websocket.py").read_text() + (
        ROOT / "wire" / "websocket.py"
    ).read_text()
    names = set(re.findall(r"CloseCode\.([A-Z_]+)", sources)) - {"NO_STATUS"}  # never sent
    codes = [int(CloseCode[name]) for name in sorted(names)]
    assert len(codes) >= 5
    for code in codes:
        assert re.search(rf"\b{code} \(", PROTOCOL), code  # "1009 (too big, …)"


def test_every_route_of_the_app_is_in_the_protocol():
    app = create_app()
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 10
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            written = re.escape(f"`{method} {rule.rule}") + r"[`?]"
            assert re.search(written, PROTOCOL), f"{method} {rule.rule}"


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: path.name)
def test_every_endpoint_a_document_names_exists(document: Path):
    routes = create_app().url_map.bind("127.0.0.1")
    for method, path in _ENDPOINT.findall(document.read_text()):
        concrete = re.sub(r"<[^>]+>", "lobby", path)
        try:
            routes.match(concrete, method=method)
        except WebsocketMismatch:
            pass  # /ws exists; it only wants an upgrade
        except (NotFound, MethodNotAllowed):
            pytest.fail(f"{document.name} names `{method} {path}`, which the app does not serve")


class _OptionRecorder:
    """Stands in for Locust's parser: keeps the options a user can set."""

    def __init__(self) -> None:
        self.options: list[str] = []

    def add_argument(self, *names: str, **settings: Any) -> None:
        if settings.get("include_in_web_ui", True):
            self.options += [name for name in names if name.startswith("--")]


def test_measuring_names_every_workload_option_and_preset():
    recorder = _OptionRecorder()
    register_options(recorder)
    assert "--workload" in recorder.options
    for option in recorder.options:
        assert f"`{option}`" in MEASURING, option
    for workload in WORKLOADS:
        assert f"| `{workload}`" in MEASURING, workload
    for preset in PRESETS:
        assert ("| (default) |" if preset == "default" else f"| `--{preset}` |") in MEASURING


def test_measuring_states_the_sweeps_constants_and_files():
    assert f"{GENERATOR_CPU_LIMIT:.0f}% CPU" in MEASURING
    assert f"× {TCPIP_HEADER_BYTES_ESTIMATE} bytes" in MEASURING
    assert f"`{SCENARIO_FILE}`" in MEASURING
    assert f"`{LATENCY_FILE.format(transport='<transport>')}`" in MEASURING


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a document's headings."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


@pytest.mark.parametrize("document", MARKDOWN, ids=lambda path: path.name)
def test_relative_links_lead_to_files_and_headings_that_exist(document: Path):
    text = document.read_text()
    assert "../shared" not in text  # the contract lives in this repository now
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.is_file(), f"{document.name} links to {target}"
        if anchor:
            assert anchor in _anchors(linked.read_text()), f"{document.name} links to {target}"
