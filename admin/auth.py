"""Who may see `/admin`, and by which name: operators, each with a token, or named by an authenticating proxy.

Tokens come from `TRIAGE_ADMIN_TOKEN` (the operator "admin") and `TRIAGE_ADMIN_TOKENS` ("ana:<token>,bo:<token>").
A request is let in by, in this order:
- a bearer header: it decides alone (a wrong one is refused even beside a good cookie or proxy header);
- the identity header `TRIAGE_ADMIN_IDENTITY_HEADER`, only when it is set: the proxy in front authenticated the
  person and names them (it must strip that header from what clients send; when the setting is off the header is
  ignored, whoever sends it);
- the login cookie, which names the operator and is signed with that operator's own token (itsdangerous, which
  Flask ships): changing or removing a token logs that operator out, and nobody else.
The cookie is HttpOnly and SameSite=Strict; forms that change something also carry a CSRF token derived from the
cookie (or, behind the proxy, from the operator's name). Tokens are never logged or shown.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from flask import Request, current_app, g
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "triage_admin"
SESSION_SECONDS = 12 * 3600
_SALT = "triage-admin-session"
SINGLE_TOKEN_NAME = "admin"  # the operator TRIAGE_ADMIN_TOKEN names
UNKNOWN = "unknown"  # an operator(request) outside an authorised admin request (never recorded by the page)


@dataclass(frozen=True)
class Keyring:
    """The operators' tokens by name, and the proxy's identity header (None: off). Falsy when no token is set:
    the page is off."""

    tokens: dict[str, str] = field(default_factory=dict)
    identity_header: str | None = None

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def name_for(self, given: str | None) -> str | None:
        """The operator whose token this is (every token compared, in constant time each), or None."""
        found = None
        for name, token in self.tokens.items():
            if token_matches(given, token):
                found = name
        return found

    def secret(self) -> bytes:
        """A key only the server knows, for CSRF tokens of proxy-named operators (changes with any token)."""
        return hashlib.sha256("\0".join(f"{n}:{t}" for n, t in sorted(self.tokens.items())).encode()).digest()


def keyring(settings) -> Keyring:
    tokens = dict(settings.triage_admin_tokens or {})
    if settings.triage_admin_token:
        tokens = {SINGLE_TOKEN_NAME: settings.triage_admin_token, **tokens}
    return Keyring(tokens, settings.triage_admin_identity_header or None)


def token_matches(given: str | None, token: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), token.encode())


def bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def proxy_name(request: Request, keys: Keyring) -> str | None:
    """The operator the authenticating proxy names; None when the header is off, absent or empty."""
    if not keys.identity_header:
        return None
    name = request.headers.get(keys.identity_header, "").strip()
    return name[:128] or None


def new_session(keys: Keyring, name: str) -> str:
    """A login cookie naming `name`, signed with that operator's token."""
    return URLSafeTimedSerializer(keys.tokens[name], salt=_SALT).dumps(name)


def session_name(cookie: str | None, keys: Keyring) -> str | None:
    """The operator a login cookie names, if it is still signed with that operator's current token and fresh."""
    if not cookie:
        return None
    _, claimed = URLSafeTimedSerializer("", salt=_SALT).loads_unsafe(cookie)  # whose key to check it with
    token = keys.tokens.get(claimed) if isinstance(claimed, str) else None
    if token is None:
        return None
    try:
        return URLSafeTimedSerializer(token, salt=_SALT).loads(cookie, max_age=SESSION_SECONDS)
    except BadSignature:  # also SignatureExpired
        return None


def who(request: Request, keys: Keyring) -> str | None:
    """The operator this request is from, or None if it is not let in (see the module's docstring for the order)."""
    if not keys:
        return None
    given = bearer(request)
    if given is not None:
        return keys.name_for(given)
    return proxy_name(request, keys) or session_name(request.cookies.get(COOKIE), keys)


def authorised(request: Request, keys: Keyring) -> bool:
    return who(request, keys) is not None


def operator(request: Request) -> str:
    """The operator's name for this admin request, for the audit trail (worked out once per request)."""
    cached = g.get("triage_operator")
    if cached is None:
        cached = who(request, keyring(current_app.extensions["triage"].settings)) or UNKNOWN
        g.triage_operator = cached
    return cached


def csrf_token(request: Request, keys: Keyring) -> str:
    """Empty for bearer clients (a browser never sends that header by itself); else tied to the cookie, or behind
    the proxy to the operator it names (a page of another site can read neither)."""
    if bearer(request) is not None:
        return ""
    name = proxy_name(request, keys)
    if name is not None:
        return hmac.new(keys.secret(), b"csrf-proxy:" + name.encode(), hashlib.sha256).hexdigest()
    cookie = request.cookies.get(COOKIE) or ""
    token = keys.tokens.get(session_name(cookie, keys) or "")
    return hmac.new(token.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest() if token else ""


def csrf_ok(request: Request, keys: Keyring) -> bool:
    if bearer(request) is not None:
        return True
    expected = csrf_token(request, keys)
    return bool(expected) and hmac.compare_digest(request.form.get("csrf", ""), expected)
