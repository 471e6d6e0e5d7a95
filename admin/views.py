"""`/admin`: the dashboard, its login, and the JSON its script refreshes from; the actions are in
`admin.delivery_views` (retry, drop), `admin.review_views` (route a waiting ticket), `admin.model_views`
(promote, roll back) and `admin.assignment_views` (mark an agent away).

Without `TRIAGE_ADMIN_TOKEN` every admin path answers 404 (the page is off). Without a valid bearer
token or login cookie it answers 401 with the login form and shows no data. Every form that changes
something carries the CSRF token (bearer clients need none); ids in URLs that no row can have are 404 JSON.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, make_response, redirect, render_template, request, url_for

from admin import auth
from admin.blueprint import blueprint, check_csrf, keyring, runtime
from admin.dashboard import chart_payload
from admin.notices import notices
from admin.page import SECTIONS, page_data, render_dashboard
from webhooks.http_errors import error_response
from webhooks.request_body import drain_refused_body

ADMIN_FORM_BYTES = 16 * 1024  # a token and a CSRF value: no admin form comes near this

log = logging.getLogger(__name__)


# Scripts and styles only from our own static files (no inline script): what the page can run is what we ship.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def init_app(app: Flask) -> None:
    # the action modules add their routes to the blueprint as they are imported (they import admin.blueprint,
    # never this module)
    from admin import assignment_views, audit_views, delivery_views, model_views, review_views  # noqa: F401

    app.register_blueprint(blueprint)


@blueprint.before_request
def _guard():
    token = keyring()
    if not token:
        return error_response(404, "not_configured", "the admin page is off: set TRIAGE_ADMIN_TOKEN to turn it on")
    if request.method == "POST" and _form_too_large():
        drain_refused_body()
        return error_response(413, "payload_too_large", f"an admin form is at most {ADMIN_FORM_BYTES} bytes")
    if request.endpoint in ("admin.login", "admin.static"):
        return None
    if not auth.authorised(request, token):
        if auth.bearer(request) is not None:  # a script: JSON, never the login form
            return error_response(401, "unauthorized", "the bearer token is not an admin token",
                                  {"WWW-Authenticate": 'Bearer realm="triage admin", error="invalid_token"',
                                   "Cache-Control": "no-store"})
        return _login_page(401, "Wrong or expired token." if request.cookies.get(auth.COOKIE) else None)
    return None


def _form_too_large() -> bool:
    """Werkzeug cuts a chunked body at `MAX_CONTENT_LENGTH` without a word, and would parse the cut form:
    a body that reaches the cap is refused instead. Read with the cache on, so `request.form` still sees it."""
    cap = min(ADMIN_FORM_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or ADMIN_FORM_BYTES)
    if request.content_length is not None:
        return request.content_length > cap
    return len(request.get_data(cache=True)) >= cap


def _login_page(status: int, error: str | None = None):
    response = make_response(render_template("admin/login.html", error=error), status)
    response.headers["WWW-Authenticate"] = 'Bearer realm="triage admin"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.after_request
def _protect(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@blueprint.get("/login")
def login_form():
    return redirect(url_for("admin.dashboard"))


@blueprint.post("/login")
def login():
    keys = keyring()
    name = keys.name_for(request.form.get("token", ""))
    if name is None:
        log.info("admin login refused")  # never the token tried
        return _login_page(401, "Wrong token.")
    response = redirect(url_for("admin.dashboard"), code=303)
    response.set_cookie(auth.COOKIE, auth.new_session(keys, name), max_age=auth.SESSION_SECONDS, httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/admin")
    log.info("admin login", extra={"operator": name})
    return response


@blueprint.post("/logout")
def logout():
    check_csrf()
    response = redirect(url_for("admin.dashboard"), code=303)
    response.delete_cookie(auth.COOKIE, path="/admin")
    return response


@blueprint.get("")
@blueprint.get("/")
def dashboard():
    return render_dashboard()


@blueprint.get("/data.json")
def data_json():
    """What the page's script refreshes in place: chart data and the sections' HTML (rendered here, escaped)."""
    data = page_data()
    context = {"data": data, "csrf": auth.csrf_token(request, keyring()), "notices": notices(runtime(), request.args)}
    sections = {name: render_template(f"admin/parts/{name}.html", **context) for name in SECTIONS}
    response = make_response({"charts": chart_payload(data), "sections": sections,
                              "updated": data["now"].strftime("%H:%M:%S")})
    response.headers["Cache-Control"] = "no-store"
    return response


