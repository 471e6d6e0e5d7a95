"""`GET /admin/audit`: the audit trail for scripts (bearer: JSON, newest first, paged and filtered with the page's
`audit.*` query values: `audit.actor`, `audit.action`, `audit.age`, `audit.q`, `audit.page`, `audit.size`);
each entry as `triage audit --json` prints it; a browser is sent to the page's audit section with the same query.
"""
from __future__ import annotations

from flask import abort, redirect, request, url_for

from admin.audit_panel import audit_page
from admin.paging import BadQuery
from admin.blueprint import blueprint, runtime, wants_json
from webhooks.http_errors import error_response
from store.types import utcnow

_PAGE_ONLY = ("at_time", "changes", "url")  # what the section draws from; the JSON is `store.audit.as_dict`'s


@blueprint.get("/audit")
def audit_trail():
    if not wants_json():
        return redirect(url_for("admin.dashboard", **request.args.to_dict(), _anchor="audit"), code=303)
    try:
        with runtime().store.session() as session:
            found = audit_page(session, request.args, utcnow(), runtime().settings, strict=True)
    except BadQuery as exc:
        abort(error_response(400, "bad_query", exc.detail))
    page = found["page"]
    entries = [{key: value for key, value in row.items() if key not in _PAGE_ONLY} for row in page.rows]
    return {"entries": entries, "total": page.total, "page": page.page, "pages": page.pages, "size": page.size}
