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
