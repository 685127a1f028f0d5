"""The browser pages: login and the chat. (Grown by the pages work; API-free views only.)"""

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> Response:
    return redirect(url_for("observability.healthz"))
