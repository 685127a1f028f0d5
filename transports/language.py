"""Which language the pages speak: English, or Simplified Chinese (the course notes' language).

The browser's `Accept-Language` picks, in its order of preference (any `zh` tag, zh-CN,
zh-TW, zh-Hans..., means Chinese; a language we do not have is skipped; English if none is
ours). The switch on every page (`GET /language/<code>`) overrides that with a cookie that
sticks for a year. Cookies are per host, not per port, so the choice holds on every emulated
network too. Only the pages are translated; the API's error details stay in English.

Flask-Babel does the work; the catalogs are in `transports/translations/`, the compiled
`.mo` files committed beside their `.po` (the wheel ships them as package data, and a build
needs no Babel step; tests/test_language.py checks each `.mo` matches its `.po`). After
changing a page's text:

    pybabel extract -F babel.cfg -k lazy_gettext -o build/messages.pot .
    pybabel update -i build/messages.pot -d transports/translations
    # translate what is new in transports/translations/zh/LC_MESSAGES/messages.po
    pybabel compile -d transports/translations
"""

from babel import negotiate_locale
from flask import Flask, request
from flask_babel import Babel, get_locale

LANGUAGES = {"en": "English", "zh": "中文"}  # each in its own words, for the switch
DEFAULT = "en"
COOKIE = "chatlab_language"
COOKIE_MAX_AGE = 365 * 24 * 3600
_HTML_LANG = {"en": "en", "zh": "zh-Hans"}  # Simplified Chinese: the script, not a country


def select_language() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    preferred = [tag.lower() for tag in request.accept_languages.values() if tag != "*"]
    return negotiate_locale(preferred, list(LANGUAGES), sep="-") or DEFAULT


def page_language() -> str:
    """This request's language code (a key of LANGUAGES)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def html_lang() -> str:
    return _HTML_LANG[page_language()]


def init_language(app: Flask) -> None:
    Babel(app, default_locale=DEFAULT, locale_selector=select_language)
