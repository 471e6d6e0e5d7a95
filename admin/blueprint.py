"""The admin blueprint and what every admin view module shares: the operators' keyring, the runtime, CSRF,
JSON-or-page answers and the ids a URL may name. The view modules import from here, never from each other,
and `admin.views.init_app` imports them all to register their routes: no module imports back up.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, make_response, render_template, request

from admin import auth
from admin.backlog import duration, milliseconds
from webhooks.http_errors import error_response

# Row ids are positive and fit the id column (32-bit on PostgreSQL): any other text in the URL names no delivery.
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ROW_ID = re.compile(r"[1-9][0-9]{0,9}")
_LARGEST_ROW_ID = 2**31 - 1

blueprint = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
                      static_folder="static", static_url_path="/static")
blueprint.add_app_template_filter(duration, "duration")
blueprint.add_app_template_filter(milliseconds, "ms")


def keyring() -> auth.Keyring:
    """The operators' tokens (and the proxy's identity header); falsy when no token is set: the page is off."""
    return auth.keyring(current_app.extensions["triage"].settings)


def runtime():
    return current_app.extensions["triage"]


def check_csrf() -> None:
    if not auth.csrf_ok(request, keyring()):
        abort(_form_expired())


def _form_expired():
    """A form whose CSRF token is missing or no longer matches (the page stayed open across a log-out, a new
    log-in or a changed token): a browser gets a page that says so and links back, a script gets JSON."""
    if wants_json():
        return error_response(403, "forbidden", "the form's CSRF token is missing or stale")
    response = make_response(render_template("admin/expired.html"), 403)
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_json() -> bool:
    """A bearer client (a script) gets JSON answers; a browser gets the page."""
    return auth.bearer(request) is not None


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
