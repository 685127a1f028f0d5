"""Flask's signed-cookie sessions, read only by requests that authenticate with the cookie.

Flask opens the cookie session on every request: it builds a signing serializer and checks
the cookie's signature, a large share of what a short poll costs. A request that carries an
Authorization header or `?token` never uses the cookie (they take precedence over it), so
its cookie is not read at all.
"""

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionsWhenUsed(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if (
            "Authorization" in request.headers
            or "token" in request.args
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)


def cookie_token(app: Flask, environ: dict) -> str | None:
    """The token in a request's signed session cookie, read exactly as Flask reads it, for
    the requests served in front of Flask (transports.gateway)."""
    session = app.session_interface.open_session(app, app.request_class(environ))
    return None if session is None else session.get("token")
