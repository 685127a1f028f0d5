"""The pages in English and Chinese: the browser's language picks, the switch overrides it
and sticks, and every text a page or its scripts show has its Chinese translation, kept in
the catalog that a fresh extraction of the sources expects."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import ROOT

from chat_core import Transport
from transports import language
from transports.page_text import SCRIPT_TEXT, TRANSPORT_LABELS

CATALOG = ROOT / "transports" / "translations" / "zh" / "LC_MESSAGES"
PAGES = ("/", "/chat", "/compare", "/dashboard")
# Each page's title, which only that language has: <title>… · chatlab</title>
TITLES = {
    "en": {"/": "Log in", "/chat": "Chat", "/compare": "Compare", "/dashboard": "Dashboard"},
    "zh": {"/": "登录", "/chat": "聊天", "/compare": "对比", "/dashboard": "仪表盘"},
}
_PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")
_TAG = re.compile(r"</?[a-z]+[^>]*>")


def page(client, path: str, **headers: str) -> str:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def languages(app, client, **headers: str) -> dict[str, str]:
    """Each page's language as `client` (logged in) sees it; the login page, which a logged-in
    browser is sent past, by a logged-out client with the same language cookie."""
    anonymous = app.test_client()
    chosen = client.get_cookie(language.COOKIE)
    if chosen is not None:
        anonymous.set_cookie(language.COOKIE, chosen.value)
    return {
        path: language_of(page(anonymous if path == "/" else client, path, **headers))
        for path in PAGES
    }


def language_of(html: str) -> str:
    lang = re.search(r'<html lang="([^"]+)"', html)[1]
    title = re.search(r"<title>(.*?) · chatlab</title>", html)[1]
    spoken = {"en": "en", "zh-Hans": "zh"}[lang]
    assert title in TITLES[spoken].values(), (lang, title)  # the words agree with the tag
    return spoken


@pytest.fixture
def logged_in(app):
    """A test client whose cookie holds a live session, so that /chat renders."""
    from clients import unique

    client = app.test_client()
    answer = client.post("/login", data={"name": unique("lang")})
    assert answer.status_code == 302 and answer.headers["Location"] == "/chat"
    return client


@pytest.mark.parametrize(
    "accept",
    ["zh", "zh-CN", "zh-TW", "zh-Hans", "zh-Hant-TW", "ZH-cn", "fr, zh-TW;q=0.8, en;q=0.5"],
)
def test_a_browser_that_prefers_chinese_gets_every_page_in_chinese(app, logged_in, accept):
    assert languages(app, logged_in, **{"Accept-Language": accept}) == dict.fromkeys(PAGES, "zh")


@pytest.mark.parametrize("accept", [None, "en", "en-US, zh;q=0.9", "fr", "de, ja", "*"])
def test_any_other_browser_gets_english(app, logged_in, accept):
    headers = {} if accept is None else {"Accept-Language": accept}
    assert languages(app, logged_in, **headers) == dict.fromkeys(PAGES, "en")


def test_the_switch_overrides_the_browser_and_sticks_until_switched_back(app, logged_in):
    chinese = {"Accept-Language": "zh-CN"}
    answer = logged_in.get("/language/en?next=/compare?room=abc", headers=chinese)
    assert answer.status_code == 302 and answer.headers["Location"] == "/compare?room=abc"
    cookie = answer.headers["Set-Cookie"]
    assert f"{language.COOKIE}=en" in cookie and "Max-Age=31536000" in cookie
    # the cookie beats the browser's preference, on every page
    assert languages(app, logged_in, **chinese) == dict.fromkeys(PAGES, "en")
    logged_in.get("/language/zh?next=/")
    assert languages(app, logged_in, **{"Accept-Language": "en"}) == dict.fromkeys(PAGES, "zh")


def test_every_page_offers_the_switch_back_to_itself(logged_in):
    html = page(logged_in, "/compare?room=abc", **{"Accept-Language": "zh"})
    links = dict(re.findall(r'href="([^"]+)"\s+lang="(\w+)"', html))
    assert set(links.values()) == set(language.LANGUAGES)
    assert "/language/en?next=/compare?room%3Dabc" in links
    assert re.search(r'data-language="zh"\s+aria-current="true"', html)


@pytest.mark.parametrize("back", ["https://elsewhere.example/", "//elsewhere.example/", "/\\x"])
def test_the_switch_sends_nobody_off_the_site(app, back):
    answer = app.test_client().get("/language/zh", query_string={"next": back})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_a_language_we_do_not_have_is_refused_in_the_protocols_words(app):
    answer = app.test_client().get("/language/fr")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "not_found"
    assert "en, zh" in answer.get_json()["detail"]
    assert language.COOKIE not in answer.headers.get("Set-Cookie", "")


def test_login_refusals_are_said_in_the_pages_language(app, logged_in):
    from clients import unique

    taken = unique("taken")
    logged_in.post("/login", data={"name": taken})
    for accept, expected in (("zh", "已被占用"), ("en", "is in use")):
        client = app.test_client()
        answer = client.post("/login", data={"name": taken}, headers={"Accept-Language": accept},
                             follow_redirects=True)  # fmt: skip
        assert expected in answer.get_data(as_text=True)
    client = app.test_client()
    answer = client.post("/login", data={"name": "no spaces"}, headers={"Accept-Language": "zh"},
                         follow_redirects=True)  # fmt: skip
    assert f"1 到 {app.config['MAX_NAME']} 个字符" in answer.get_data(as_text=True)


def test_the_transports_keep_one_english_name_and_have_a_chinese_one(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert {t: str(label) for t, label in TRANSPORT_LABELS.items()} == {
            t: t.label for t in Transport
        }
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        chinese = {t: str(label) for t, label in TRANSPORT_LABELS.items()}
    assert chinese[Transport.SHORT_POLL] == "轮询" and chinese[Transport.LONG_POLL] == "长轮询"
    html = page(app.test_client(), "/", **{"Accept-Language": "zh"})
    assert "\\u957f\\u8f6e\\u8be2" in html  # 长轮询, in data-transport-labels' JSON


# --- the catalog ---------------------------------------------------------------------------


def fresh_extraction(folder: Path) -> set[str]:
    """The msgids of the sources now, by the command transports/language.py documents."""
    (command,) = [
        line.strip() for line in language.__doc__.splitlines() if "pybabel extract" in line
    ]
    argv = shlex.split(command)
    argv[0] = str(Path(sys.executable).with_name("pybabel"))
    argv[argv.index("-o") + 1] = str(folder / "messages.pot")
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, timeout=120)
    with open(folder / "messages.pot", "rb") as pot:
        return {message.id for message in read_po(pot) if message.id}


def chinese_catalog() -> dict[str, str]:
    with open(CATALOG / "messages.po", "rb") as po:
        catalog = read_po(po)
    assert not [m.id for m in catalog if m.id and m.fuzzy], "fuzzy entries are not translations"
    return {message.id: message.string for message in catalog if message.id}


def test_every_text_of_the_pages_has_a_chinese_translation(tmp_path: Path):
    extracted = fresh_extraction(tmp_path)
    assert len(extracted) > 100
    assert set(SCRIPT_TEXT.values()) and {str(t) for t in SCRIPT_TEXT.values()} <= extracted
    catalog = chinese_catalog()
    assert sorted(extracted - set(catalog)) == [], "not in the catalog: pybabel update"
    assert sorted(set(catalog) - extracted) == [], "no longer in the sources"
    untranslated = [msgid for msgid, msgstr in catalog.items() if not msgstr.strip()]
    assert untranslated == []


def test_each_translation_keeps_the_placeholders_and_markup_of_its_english():
    for msgid, msgstr in chinese_catalog().items():
        assert sorted(_PLACEHOLDER.findall(msgstr)) == sorted(_PLACEHOLDER.findall(msgid)), msgid
        assert _TAG.findall(msgstr) == _TAG.findall(msgid), msgid


def test_the_committed_mo_is_the_compiled_po():
    with open(CATALOG / "messages.mo", "rb") as mo:
        compiled = {message.id: message.string for message in read_mo(mo) if message.id}
    assert compiled == chinese_catalog(), "run: pybabel compile -d transports/translations"


def test_every_text_the_scripts_ask_for_exists_and_every_one_is_asked_for():
    scripts = "\n".join(
        path.read_text() for path in (ROOT / "transports" / "static" / "js").rglob("*.js")
    )
    asked = set(re.findall(r"\bt\(\s*'([^']+)'", scripts))
    prefixes = set(re.findall(r"\bt\(\s*`([\w.]+)\$\{", scripts))  # t(`state.${state}`)
    assert asked and prefixes
    assert sorted(asked - set(SCRIPT_TEXT)) == []
    unused = [k for k in SCRIPT_TEXT if k not in asked and not k.startswith(tuple(prefixes))]
    assert unused == []
