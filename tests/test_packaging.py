"""chatlab as a user installs it: the wheel carries every page asset, every import is declared,
and the installed command depends on nothing in its working folder."""

import functools
import importlib.metadata
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from clients import unique
from conftest import ROOT
from source_imports import absolute_imports

from lab.server_process import ServerProcess

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PAGES = ("/", "/chat", "/compare", "/dashboard")  # the first before logging in
CONTENT_TYPES = {
    ".css": {"text/css"},
    ".js": {"text/javascript", "application/javascript"},  # both run as module scripts
}
MARK = "/* the installed copy */"
WHERE_FROM = """import importlib, sys
for name in sys.argv[1:]:
    print(importlib.import_module(name).__file__)
"""  # the file each package named on the command line is imported from


def first_party() -> list[str]:
    """The top-level packages the wheel ships, from `[tool.setuptools.packages.find]`."""
    patterns = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return [pattern.rstrip("*").rstrip(".") for pattern in patterns]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return normalized(match.group())


def imported_top_levels() -> dict[str, set[str]]:
    """Every absolute import in the shipped packages: top-level name -> files importing it."""
    found: dict[str, set[str]] = {}
    for package in first_party():
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in absolute_imports(path):
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@functools.cache
def distributions_of(module: str) -> frozenset[str]:
    return frozenset(normalized(d) for d in _packages_distributions().get(module, []))


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def test_every_import_in_the_shipped_packages_is_stdlib_first_party_or_declared():
    declared = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    ours = set(first_party())
    undeclared = {
        name: sorted(files)
        for name, files in imported_top_levels().items()
        if name not in sys.stdlib_module_names
        and name not in ours
        and not distributions_of(name) & declared
    }
    assert undeclared == {}, "imported but not in [project] dependencies"


def test_every_declared_dependency_is_imported_by_the_shipped_packages():
    imported: set[str] = set()
    for name in imported_top_levels():
        imported |= distributions_of(name)
    declared = {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert declared - imported == set(), "declared but never imported: a dev dependency?"


def test_a_server_child_imports_what_is_installed_whatever_folder_it_runs_in(
    tmp_path: Path, monkeypatch
):
    # A folder holding a package named like ours: the child must not import it.
    decoy = tmp_path / "chatlab"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise SystemExit('the decoy chatlab was imported')\n")
    monkeypatch.chdir(tmp_path)
    with ServerProcess(stderr=tmp_path / "server.stderr") as server:
        assert requests.get(f"{server.url}/healthz", timeout=10).json() == {"ok": True}
        assert Path(f"/proc/{server.process.pid}/cwd").resolve() == tmp_path.resolve()


# --- the wheel -----------------------------------------------------------------------------


def run(*command: str | Path, cwd: Path | None = None) -> str:
    """Run a command to completion; its output, stripped (its errors if it fails)."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, f"{command}:\n{done.stderr[-3000:]}"
    return done.stdout.strip()


def build_wheel(folder: Path) -> Path:
    """The wheel of a clean copy of the sources (a stale build/ beside them could fill gaps)."""
    source = folder / "source"
    source.mkdir()
    for item in ROOT.iterdir():
        if item.is_file():
            shutil.copy2(item, source / item.name)
    for package in first_party():
        shutil.copytree(ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
    wheels = folder / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, source)
    (wheel,) = wheels.glob("chatlab-*.whl")
    return wheel


def fresh_install(folder: Path, wheel: Path) -> tuple[Path, Path]:
    """A new virtualenv with only the wheel installed in it; its bin/ and site-packages.

    The dependencies come from this test's own environment through a path line in a .pth
    file: Python does not process the .pth files of a folder added that way, so this
    environment's editable install of chatlab stays out of it."""
    home = folder / "venv"
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "chatlab-test-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    pip = (sys.executable, "-m", "pip", "--python", python)
    run(*pip, "install", "--quiet", "--no-deps", "--no-index", wheel)
    return home / "bin", site


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"link": "href", "script": "src", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value and not value.startswith("data:"):
                self.urls.append(value)


_JS_IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]"""  # import x from "./a.js"
    r"""|\bimport\s*['"]([^'"]+)['"]"""  # import "./a.js"
    r"""|\bimport\(\s*['"]([^'"]+)['"]\s*\)"""  # import("./a.js")
)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def referenced(text: str, pattern: re.Pattern) -> Iterator[str]:
    for match in pattern.finditer(text):
        url = next(group for group in match.groups() if group)
        if not url.startswith("data:"):
            yield url


def test_the_wheel_installed_alone_serves_every_page_and_every_asset_they_reference(
    tmp_path: Path, monkeypatch
):
    wheel = build_wheel(tmp_path)
    bin_dir, site = fresh_install(tmp_path, wheel)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.delenv("PYTHONPATH", raising=False)
    packages = first_party()
    where = run(bin_dir / "python", "-c", WHERE_FROM, *packages, cwd=empty).split()
    assert len(where) == len(packages)
    assert all(Path(file).is_relative_to(site) for file in where), where
    # Marking the installed assets shows below that the server answers with these files.
    installed_static = site / "transports" / "static"
    for path in installed_static.rglob("*"):
        if path.suffix in CONTENT_TYPES:
            path.write_text(path.read_text() + f"\n{MARK}\n")

    command = [str(bin_dir / "chatlab"), "serve"]
    with ServerProcess(command=command, cwd=empty, stderr=tmp_path / "serve.stderr") as server:
        fetched, referrers = fetch_pages_and_assets(server.url + "/")
        # the compiled catalog travels in the wheel: a Chinese browser gets a Chinese page
        chinese = requests.get(f"{server.url}/compare", headers={"Accept-Language": "zh-CN"},
                               timeout=10)  # fmt: skip
    assert (site / "transports" / "translations" / "zh" / "LC_MESSAGES" / "messages.mo").is_file()
    assert '<html lang="zh-Hans"' in chinese.text
    assert "<title>对比 · chatlab</title>" in chinese.text and "四种传输方式" in chinese.text

    assert {".css", ".js"} <= {Path(urlsplit(url).path).suffix for url in fetched}
    assert any(referrer.endswith(".js") for referrer in referrers.values()), "no import followed"
    for url, text in fetched.items():
        relative = urlsplit(url).path.removeprefix("/static/")
        assert text == (installed_static / relative).read_text(), url
        assert text.rstrip().endswith(MARK), url


def fetch_pages_and_assets(base: str) -> tuple[dict[str, str], dict[str, str]]:
    """Log in, load every page, then every asset they reference, following JS imports and
    CSS url()s: each must answer 200 with its content type. Returns the assets' texts by URL,
    and for each URL the page or asset that referenced it first."""
    http = requests.Session()
    referrers: dict[str, str] = {}

    def visit(page: str) -> None:
        answer = http.get(urljoin(base, page), timeout=10, allow_redirects=False)
        assert answer.status_code == 200, page
        assert answer.headers["Content-Type"].startswith("text/html"), page
        parser = References()
        parser.feed(answer.text)
        for url in parser.urls:
            referrers.setdefault(urljoin(answer.url, url), page)

    visit(PAGES[0])  # the login form
    login = http.post(urljoin(base, "login"), data={"name": unique("wheel")}, timeout=10)
    assert login.status_code == 200 and urlsplit(login.url).path == "/chat"
    for page in PAGES[1:]:
        visit(page)

    fetched: dict[str, str] = {}
    pending = list(referrers)
    for _ in range(1000):
        if not pending:
            break
        url = pending.pop()
        if url in fetched:
            continue
        where = (url, "referenced by", referrers[url])
        assert urlsplit(url).netloc == urlsplit(base).netloc, where
        suffix = Path(urlsplit(url).path).suffix
        assert suffix in CONTENT_TYPES, (*where, "add its content type to CONTENT_TYPES")
        answer = http.get(url, timeout=10)
        assert answer.status_code == 200, where
        content_type = answer.headers["Content-Type"].split(";")[0].strip()
        assert content_type in CONTENT_TYPES[suffix], (*where, content_type)
        fetched[url] = answer.text
        for found in referenced(answer.text, _JS_IMPORT if suffix == ".js" else _CSS_URL):
            target = urljoin(url, found)
            referrers.setdefault(target, url)
            pending.append(target)
    assert not pending, "more assets than any page could reference"
    return fetched, referrers
