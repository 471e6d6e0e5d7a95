"""The dashboard page as a response: its data (tables paged and filtered as the query string asks) rendered
with its notices. Used by the dashboard route and by actions that answer with the page (an action refused)."""
from __future__ import annotations

from flask import abort, make_response, render_template, request

from admin import auth
from admin.blueprint import keyring, runtime, wants_json
from admin.dashboard import chart_payload, dashboard_data
from admin.notices import notices
from admin.paging import BadQuery
from webhooks.http_errors import error_response

SECTIONS = ("notices", "automation-figures", "accuracy-figures", "backlog", "reviews", "failed", "models",
            "drift-table", "assignment", "audit")  # the page's parts its script refreshes (templates/admin/parts/<name>.html)


def render_dashboard(status: int = 200, error: str | None = None):
    """The page; `error` (an action refused, e.g. a ticket someone else routed) is shown at its top."""
    data = page_data()
    response = make_response(render_template(
        "admin/dashboard.html", data=data, charts=chart_payload(data), csrf=auth.csrf_token(request, keyring()),
        notices=notices(runtime(), request.args, error), operator=auth.operator(request)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def page_data() -> dict:
    """The dashboard's data, its tables paged and filtered as the query string asks (admin.paging); a bearer
    client's value that names nothing (page `-1`, an unknown state) is a 400, a browser gets the defaults."""
    try:
        return dashboard_data(runtime(), args=request.args, strict=wants_json())
    except BadQuery as exc:
        abort(error_response(400, "bad_query", exc.detail))
