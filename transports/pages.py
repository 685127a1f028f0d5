"""The browser pages: login, chat, compare, dashboard.

The views only render pages (in the page's language, transports/language.py, and for the
network the request came through, transports/networks.py) and handle the login form and the
language switch; everything live happens in static/js/*.js through the same API and
transports every other client uses.
"""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from werkzeug.wrappers import Response

from chat_core import ChatError, ErrorCode, Session

from . import language
from .auth import check_origin
from .networks import network_url, networks, request_network
from .page_text import script_text, transport_labels
from .state import state

bp = Blueprint("pages", __name__)

# Pages never need inline script or style, so an injected tag could do nothing even if some
# text escaped textContent; WebSocket and EventSource stay on this origin too.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


# The login refusals a person can cause, in the page's language; any other is shown as the
# chat said it.
_LOGIN_REFUSALS = {
    ErrorCode.NAME_TAKEN: lazy_gettext("The name '%(name)s' is in use."),
    ErrorCode.BAD_REQUEST: lazy_gettext(
        "A name must be 1 to %(most)s characters long and may hold only letters, digits, "
        "'_', '-' and '.'."
    ),
}


@bp.context_processor
def _page_context() -> dict[str, object]:
    """What every page's frame needs: the transports in words and the scripts' texts (for
    static/js/transports/index.js and text.js), the language, the network it came through."""
    return {
        "transport_labels": transport_labels(),
        "script_text": script_text(),
        "languages": language.LANGUAGES,
        "page_language": language.page_language(),
        "html_lang": language.html_lang(),
        "network": request_network(),
    }


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.vary.update(("Accept-Language", "Cookie"))  # the language is chosen by them
    return response


def logged_in_user() -> Session | None:
    """The live chat session behind this browser's cookie, if any."""
    token = session.get("token")
    return state().chat.authenticate(token) if isinstance(token, str) else None


@bp.get("/")
def index() -> Response | str:
    if logged_in_user() is not None:
        return redirect(url_for(".chat"))
    return render_template("login.html", name=request.args.get("name", ""))


@bp.get("/login")
def login_form() -> Response:
    return redirect(url_for(".index"))


@bp.post("/login")
def login() -> Response:
    # A forged cross-site form could otherwise sign a visitor in under a name of its choosing.
    check_origin(login)
    name = request.form.get("name", "").strip()
    chat = state().chat
    try:
        new = chat.login(name, client=request.remote_addr)
    except ChatError as error:
        refusal = _LOGIN_REFUSALS.get(error.code)
        most = current_app.config["MAX_NAME"]
        flash(
            error.detail if refusal is None else str(refusal) % {"name": name, "most": most},
            "error",
        )
        return redirect(url_for(".index", name=name))
    session["token"] = new.token
    # The chat page starts reading here, so nothing sent to this user after login is missed
    # and a reload replays the conversation from the start of the session.
    session["cursor"] = chat.newest_id()
    return redirect(url_for(".chat"))


@bp.get("/chat")
def chat() -> Response | str:
    user = logged_in_user()
    if user is None:
        flash(gettext("Choose a name to join the chat."), "info")
        return redirect(url_for(".index"))
    cursor = session.get("cursor")
    if not isinstance(cursor, int) or cursor > state().chat.newest_id():
        cursor = state().chat.newest_id()
    return render_template("chat.html", me=user.name, cursor=cursor)


@bp.get("/compare")
def compare() -> str:
    room = request.args.get("room", "")
    path = url_for(".compare", room=room or None)
    choices = [(choice, network_url(choice, path)) for choice in networks().choices()]
    return render_template("compare.html", room=room, choices=choices)


@bp.get("/dashboard")
def dashboard() -> str:
    return render_template("dashboard.html", has_links=bool(networks().links))


@bp.get("/language/<code>")
def choose_language(code: str) -> Response:
    """The switch on every page: remember the language in a cookie, then back to the page."""
    if code not in language.LANGUAGES:
        raise ChatError(
            ErrorCode.NOT_FOUND,
            f"No pages in {code!r}: choose one of {', '.join(language.LANGUAGES)}.",
        )
    back = request.args.get("next", "")
    # Only a path on this site: a link elsewhere must not be able to send a visitor onwards.
    if not back.startswith("/") or back.startswith("//") or "\\" in back:
        back = url_for(".index")
    response = redirect(back)
    response.set_cookie(language.COOKIE, code, max_age=language.COOKIE_MAX_AGE,
                        samesite="Lax", httponly=True)  # fmt: skip
    return response
