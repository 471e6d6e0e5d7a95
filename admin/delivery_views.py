"""Dead letters on the admin page: **Retry** requeues a failed delivery at the step where it stopped (like
`triage events retry ID`); **Drop** gives up on it for good: it moves from `failed` to `dropped`, stays in
the store with its error, and nothing (not the clock's retry of dead letters either) picks it up again.

`delivery_id` is any text, so an id no row can have gets our JSON 404, never a database error.
"""
from __future__ import annotations

import logging

from flask import redirect, url_for
from sqlalchemy import update

from admin.views import acting_on, blueprint, no_such, runtime, wants_json
from api.errors import error_response
from store import inbox
from store.models import FAILED, Delivery
from store.types import utcnow

DROPPED = "dropped"
log = logging.getLogger(__name__)


@blueprint.post("/deliveries/<delivery_id>/retry")
def retry(delivery_id: str):
    row = acting_on("delivery", delivery_id)
    triage = runtime()
    with triage.store.session() as session:
        requeued = inbox.retry(session, [row])
        exists = bool(requeued) or session.get(Delivery, row) is not None
    if not exists:
        return no_such("delivery", str(row))
    if not requeued:
        return error_response(409, "not_failed", f"delivery {row} is not a failed delivery")
    try:
        triage.queue.enqueue(row)
    except Exception:  # stored as due: the sweeper sends it
        log.warning("enqueue after retry failed; the sweeper will pick it up", extra={"delivery_id": row})
    log.info("delivery requeued from the admin page", extra={"delivery_id": row})
    if wants_json():
        return {"status": "requeued", "delivery_id": row}
    return redirect(url_for("admin.dashboard", requeued=row, _anchor="failed"), code=303)


@blueprint.post("/deliveries/<delivery_id>/drop")
def drop(delivery_id: str):
    row = acting_on("delivery", delivery_id)
    with runtime().store.session() as session:
        dropped = session.execute(
            update(Delivery).where(Delivery.id == row, Delivery.state == FAILED)
            .values(state=DROPPED, finished_at=utcnow(), lease_owner=None, lease_until=None)
        ).rowcount == 1
        exists = dropped or session.get(Delivery, row) is not None
    if not exists:
        return no_such("delivery", str(row))
    if not dropped:
        return error_response(409, "not_failed", f"delivery {row} is not a failed delivery")
    log.info("delivery dropped from the admin page", extra={"delivery_id": row})
    if wants_json():
        return {"status": "dropped", "delivery_id": row}
    return redirect(url_for("admin.dashboard", dropped=row, _anchor="failed"), code=303)
