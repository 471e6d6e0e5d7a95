"""Who may see `/admin`: a bearer `TRIAGE_ADMIN_TOKEN`, or a browser that logged in with it.

Logging in sets a cookie signed with the token itself (itsdangerous, which Flask ships), so changing the
token logs everyone out and there is no separate session secret to manage. The cookie is HttpOnly and
SameSite=Strict; forms that change something also carry a CSRF token derived from the cookie.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "triage_admin"
SESSION_SECONDS = 12 * 3600
_SALT = "triage-admin-session"


def token_matches(given: str | None, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def new_session(token: str) -> str:
    return URLSafeTimedSerializer(token, salt=_SALT).dumps("admin")


def session_valid(cookie: str | None, token: str) -> bool:
    if not cookie:
        return False
    try:
        return URLSafeTimedSerializer(token, salt=_SALT).loads(cookie, max_age=SESSION_SECONDS) == "admin"
    except BadSignature:  # also SignatureExpired
        return False


def authorised(request: Request, token: str) -> bool:
    """A bearer header decides alone (a wrong one is refused even beside a good cookie)."""
    given = bearer(request)
    if given is not None:
        return token_matches(given, token)
    return session_valid(request.cookies.get(COOKIE), token)


def csrf_token(request: Request, token: str) -> str:
    """Empty for bearer clients (a browser never sends that header by itself); else tied to the cookie."""
    cookie = request.cookies.get(COOKIE) or ""
    return hmac.new(token.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest() if cookie else ""


def csrf_ok(request: Request, token: str) -> bool:
    if bearer(request) is not None:
        return True
    expected = csrf_token(request, token)
    return bool(expected) and hmac.compare_digest(request.form.get("csrf", ""), expected)
