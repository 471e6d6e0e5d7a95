"""`/admin`: the dashboard, its login, and the retry button for failed deliveries.

Without `TRIAGE_ADMIN_TOKEN` every admin path answers 404 (the page is off). Without a valid bearer
token or login cookie it answers 401 with the login form and shows no data.
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Flask, abort, current_app, make_response, redirect, render_template, request, url_for

from admin import auth
from admin.dashboard import chart_payload, dashboard_data
from api.errors import error_response
from store import inbox
from store.models import Delivery

# Row ids are positive and fit the id column (32-bit on PostgreSQL): any other text in the URL names no delivery.
_ROW_ID = re.compile(r"[1-9][0-9]{0,9}")
_LARGEST_ROW_ID = 2**31 - 1
ADMIN_FORM_BYTES = 16 * 1024  # a token and a CSRF value: no admin form comes near this

log = logging.getLogger(__name__)
blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                      static_folder="static", static_url_path="/static")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


def _token() -> str | None:
    return current_app.extensions["triage"].settings.triage_admin_token


@blueprint.before_request
def _guard():
    token = _token()
    if not token:
        return error_response(404, "not_configured", "the admin page is off: set TRIAGE_ADMIN_TOKEN to turn it on")
    if request.method == "POST" and _form_too_large():
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
    response = redirect(url_for("admin.dashboard"), code=303)
    response.delete_cookie(auth.COOKIE, path="/admin")
    return response


@blueprint.get("")
@blueprint.get("/")
def dashboard():
    runtime = current_app.extensions["triage"]
    data = dashboard_data(runtime)
    requeued = request.args.get("requeued", type=int)
    response = make_response(render_template(
        "admin/dashboard.html", data=data, charts=chart_payload(data), requeued=requeued,
        csrf=auth.csrf_token(request, _token())))
    response.headers["Cache-Control"] = "no-store"
    return response


def row_id(text: str) -> int | None:
    """The id written in a URL as a row id, or None if no row can have it (zero, negative, huge, not digits)."""
    if not _ROW_ID.fullmatch(text) or int(text) > _LARGEST_ROW_ID:
        return None
    return int(text)


@blueprint.post("/deliveries/<delivery_id>/retry")
def retry(delivery_id: str):
    """`delivery_id` is any text, so an id no row can have gets our JSON 404, never a database error."""
    row = row_id(delivery_id)
    if row is None:
        return error_response(404, "not_found", f"no delivery has the id {delivery_id[:40]!r}")
    if not auth.csrf_ok(request, _token()):
        abort(403)
    runtime = current_app.extensions["triage"]
    with runtime.store.session() as session:
        requeued = inbox.retry(session, [row])
        exists = bool(requeued) or session.get(Delivery, row) is not None
    if not exists:
        return error_response(404, "not_found", f"no delivery has the id {row}")
    if not requeued:
        return error_response(409, "not_failed", f"delivery {row} is not a failed delivery")
    try:
        runtime.queue.enqueue(row)
    except Exception:  # stored as due: the sweeper sends it
        log.warning("enqueue after retry failed; the sweeper will pick it up", extra={"delivery_id": row})
    log.info("delivery requeued from the admin page", extra={"delivery_id": row})
    if auth.bearer(request) is not None:
        return {"status": "requeued", "delivery_id": row}
    return redirect(url_for("admin.dashboard", requeued=row, _anchor="failed"), code=303)
