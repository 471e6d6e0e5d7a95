"""`/admin`: the dashboard, its login, and the JSON its script refreshes from; the actions are in
`admin.delivery_views` (retry, drop), `admin.review_views` (route a waiting ticket), `admin.model_views`
(promote, roll back) and `admin.assignment_views` (mark an agent away).

Without `TRIAGE_ADMIN_TOKEN` every admin path answers 404 (the page is off). Without a valid bearer
token or login cookie it answers 401 with the login form and shows no data. Every form that changes
something carries the CSRF token (bearer clients need none); ids in URLs that no row can have are 404 JSON.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Flask, abort, current_app, make_response, redirect, render_template, request, url_for

from admin import auth
from admin.backlog import duration, milliseconds
from admin.dashboard import chart_payload, dashboard_data
from admin.notices import notices
from api.errors import error_response
from api.request_body import drain_refused_body

# Row ids are positive and fit the id column (32-bit on PostgreSQL): any other text in the URL names no delivery.
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ROW_ID = re.compile(r"[1-9][0-9]{0,9}")
_LARGEST_ROW_ID = 2**31 - 1
ADMIN_FORM_BYTES = 16 * 1024  # a token and a CSRF value: no admin form comes near this

log = logging.getLogger(__name__)
blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                      static_folder="static", static_url_path="/static")
blueprint.add_app_template_filter(duration, "duration")
blueprint.add_app_template_filter(milliseconds, "ms")


# Scripts and styles only from our own static files (no inline script): what the page can run is what we ship.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECTIONS = ("notices", "automation-figures", "accuracy-figures", "backlog", "reviews", "failed", "models",
            "drift-table", "assignment")  # the page's parts its script refreshes (templates/admin/parts/<name>.html)


def init_app(app: Flask) -> None:
    from admin import assignment_views, delivery_views, model_views, review_views  # noqa: F401  (their routes join the blueprint)

    app.register_blueprint(blueprint)


def _token() -> str | None:
    return current_app.extensions["triage"].settings.triage_admin_token


def runtime():
    return current_app.extensions["triage"]


def check_csrf() -> None:
    if not auth.csrf_ok(request, _token()):
        abort(403)


def wants_json() -> bool:
    """A bearer client (a script) gets JSON answers; a browser gets the page."""
    return auth.bearer(request) is not None


@blueprint.before_request
def _guard():
    token = _token()
    if not token:
        return error_response(404, "not_configured", "the admin page is off: set TRIAGE_ADMIN_TOKEN to turn it on")
    if request.method == "POST" and _form_too_large():
        drain_refused_body()
        return error_response(413, "payload_too_large", f"an admin form is at most {ADMIN_FORM_BYTES} bytes")
    if request.endpoint in ("admin.login", "admin.static"):
        return None
    if not auth.authorised(request, token):
        return _login_page(401, "Wrong or expired token." if auth.bearer(request) or request.cookies.get(auth.COOKIE)
                           else None)
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
    token = _token()
    if not auth.token_matches(request.form.get("token", ""), token):
        log.info("admin login refused")
        return _login_page(401, "Wrong token.")
    response = redirect(url_for("admin.dashboard"), code=303)
    response.set_cookie(auth.COOKIE, auth.new_session(token), max_age=auth.SESSION_SECONDS, httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/admin")
    log.info("admin login")
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


def render_dashboard(status: int = 200, error: str | None = None):
    """The page; `error` (an action refused, e.g. a ticket someone else routed) is shown at its top."""
    data = dashboard_data(runtime())
    response = make_response(render_template(
        "admin/dashboard.html", data=data, charts=chart_payload(data), csrf=auth.csrf_token(request, _token()),
        notices=notices(runtime(), request.args, error)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/data.json")
def data_json():
    """What the page's script refreshes in place: chart data and the sections' HTML (rendered here, escaped)."""
    data = dashboard_data(runtime())
    context = {"data": data, "csrf": auth.csrf_token(request, _token()), "notices": notices(runtime(), request.args)}
    sections = {name: render_template(f"admin/parts/{name}.html", **context) for name in SECTIONS}
    response = make_response({"charts": chart_payload(data), "sections": sections,
                              "updated": data["now"].strftime("%H:%M:%S")})
    response.headers["Cache-Control"] = "no-store"
    return response


def row_id(text: str) -> int | None:
    """The id written in a URL as a row id, or None if no row can have it (zero, negative, huge, not digits)."""
    if not _ROW_ID.fullmatch(text) or int(text) > _LARGEST_ROW_ID:
        return None
    return int(text)


def version_id(text: str) -> str | None:
    """A model version as written in a URL, or None if no registry folder can have that name."""
    return text if _VERSION.fullmatch(text) and ".." not in text else None


def no_such(thing: str, written: str):
    return error_response(404, "not_found", f"no {thing} has the id {written[:40]!r}")


def acting_on(thing: str, written: str) -> int:
    """The row a form acts on: an id no row can have is a JSON 404 (before the CSRF check, so a hostile id
    never costs more), then the form must carry its CSRF token."""
    row = row_id(written)
    if row is None:
        abort(no_such(thing, written))
    check_csrf()
    return row
