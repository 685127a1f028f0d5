"""The browser pages: login, chat, compare, dashboard.

The views only render pages and handle the login form; everything live happens in
static/js/*.js through the same API and transports every other client uses.
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from chat_core import ChatError, Session, Transport

from .auth import check_origin
from .state import state

bp = Blueprint("pages", __name__)

# Pages never need inline script or style, so an injected tag could do nothing even if some
# text escaped textContent; WebSocket and EventSource stay on this origin too.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@bp.context_processor
def _transport_labels() -> dict[str, dict[str, str]]:
    """The transports in words, handed to the pages' scripts (static/js/transports/index.js)."""
    return {"transport_labels": {str(t): t.label for t in Transport}}


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
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
        flash(error.detail, "error")
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
        flash("Choose a name to join the chat.", "info")
        return redirect(url_for(".index"))
    cursor = session.get("cursor")
    if not isinstance(cursor, int) or cursor > state().chat.newest_id():
        cursor = state().chat.newest_id()
    return render_template("chat.html", me=user.name, cursor=cursor)


@bp.get("/compare")
def compare() -> str:
    return render_template("compare.html", room=request.args.get("room", ""))


@bp.get("/dashboard")
def dashboard() -> str:
    return render_template("dashboard.html")
