"""`POST /admin/reviews/<review_id>/route`: the review queue's **Route** and **Leave to agents** buttons.

Form fields: `category` (one of the ticket's categories), or `leave=1`; `csrf` for a browser. A ticket
someone already routed (in Slack, on this page, or in the helpdesk) answers 409 with who did, and nothing
changes. Bearer clients get JSON; a browser is sent back to the page, which says what became of the route.
"""
from __future__ import annotations

from flask import redirect, request, url_for

from admin.auth import operator
from admin.paging import kept_args
from admin.review_actions import BAD_CATEGORY, NOT_FOUND, route_review
from admin.blueprint import acting_on, blueprint, no_such, runtime, wants_json
from admin.page import render_dashboard
from webhooks.http_errors import error_response
from integrations.slack.clicks import LEFT, ROUTED

MAX_CATEGORY_CHARS = 255  # the corrections' column


@blueprint.post("/reviews/<review_id>/route")
def route(review_id: str):
    row = acting_on("review", review_id)
    leave = request.form.get("leave") == "1"
    category = (request.form.get("category") or "").strip()
    if not leave and not category:
        return error_response(400, "missing_category", "choose a category, or leave the ticket to the agents")
    if len(category) > MAX_CATEGORY_CHARS:
        return error_response(400, "bad_category", f"a category has at most {MAX_CATEGORY_CHARS} characters")
    result = route_review(runtime(), row, None if leave else category, operator(request))
    if result.outcome == NOT_FOUND:
        return no_such("review", str(row))
    if result.outcome == BAD_CATEGORY:
        return error_response(400, "bad_category", result.detail)
    if result.outcome not in (ROUTED, LEFT):
        if wants_json():
            return error_response(409, "already_routed", result.detail)
        return render_dashboard(409, result.detail)
    if wants_json():
        return {"status": result.outcome, "review_id": row, "category": None if leave else category,
                "write_back_id": result.write_back_id}
    return redirect(url_for("admin.dashboard", routed=row, **kept_args(request.form), _anchor="reviews"), code=303)
