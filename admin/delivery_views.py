"""Failed items on the admin page: **Retry** and **Drop**, one at a time or in bulk.

- A dead-lettered delivery (`/deliveries/<id>/...`): retry requeues it at the step where it stopped (like
  `triage events retry ID`); drop gives up on it for good (`dropped`, kept with its error, its automatic route
  marked dropped, never picked up again, not even by the clock's retry of dead letters).
- A failed write-back (`/write-backs/<id>/...`: a correction, or a route that failed after its delivery finished):
  retry makes it pending again and writes it at once in a background thread (a failure is recorded as any
  attempt is, and the clock's sweep carries on with it); drop gives up on it (`dropped`, never written).
- A waiting ticket whose assignment the helpdesk refused (`/assignments/<id>/...`): retry clears its error and
  failures so the waiting queue's next round applies it again; drop gives up on it (`dropped`: it keeps its group,
  nobody assigns it).
- `/failed/bulk` does either to the items ticked on the page, or to every item the table's filters match (at
  most `MAX_BULK`): a first POST shows what will happen, only the confirmation's POST (`confirm=1`) acts. Bearer
  clients get a 400 without `confirm=1` too. Every form carries the CSRF token.

Each item acted on gets an audit entry (`store.audit`) naming the operator, in the transaction that changes it.
Ids in URLs are any text, so an id no row can have gets our JSON 404, never a database error.
"""
from __future__ import annotations

import logging

from flask import make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from admin import auth
from admin.auth import operator
from admin.paging import BadQuery, read_page
from admin.tables import ASSIGNMENT, DELIVERY, TABLE, WRITE_BACK, failed_filters, item_key, matching
from admin.blueprint import acting_on, blueprint, check_csrf, keyring, no_such, runtime, wants_json
from admin.page import render_dashboard
from admin.review_actions import admin_writes
from webhooks.http_errors import error_response
from store import assignments, audit, inbox
from store.models import Assignment, Delivery, TicketRecord, WriteBack
from store.types import utcnow
from integrations import corrections

MAX_BULK = 200  # items one bulk action takes (the notice's redirect names each; `matching` takes the oldest)
RETRY, DROP = audit.RETRY, audit.DROP  # the actions, named as the audit trail names them
log = logging.getLogger(__name__)


@blueprint.post("/deliveries/<delivery_id>/retry")
def retry(delivery_id: str):
    row = acting_on("delivery", delivery_id)
    done, exists = _act(RETRY, [(DELIVERY, row)])
    if not exists:
        return no_such("delivery", str(row))
    if not done:
        return error_response(409, "not_failed", f"delivery {row} is not a failed delivery")
    if wants_json():
        return {"status": "requeued", "delivery_id": row}
    return redirect(url_for("admin.dashboard", requeued=row, _anchor="failed"), code=303)


@blueprint.post("/deliveries/<delivery_id>/drop")
def drop(delivery_id: str):
    row = acting_on("delivery", delivery_id)
    done, exists = _act(DROP, [(DELIVERY, row)])
    if not exists:
        return no_such("delivery", str(row))
    if not done:
        return error_response(409, "not_failed", f"delivery {row} is not a failed delivery")
    if wants_json():
        return {"status": "dropped", "delivery_id": row}
    return redirect(url_for("admin.dashboard", dropped=row, _anchor="failed"), code=303)


@blueprint.post("/write-backs/<write_back_id>/retry")
def retry_write_back(write_back_id: str):
    return _one_write_back(RETRY, acting_on("write-back", write_back_id))


@blueprint.post("/write-backs/<write_back_id>/drop")
def drop_write_back(write_back_id: str):
    return _one_write_back(DROP, acting_on("write-back", write_back_id))


def _one_write_back(action: str, row: int):
    done, exists = _act(action, [(WRITE_BACK, row)])
    if not exists:
        return no_such("write-back", str(row))
    if not done:
        return error_response(409, "not_failed", f"write-back {row} is not a failed write-back")
    if wants_json():
        return {"status": "retried" if action == RETRY else "dropped", "write_back_id": row}
    return _back_to_page(action, done)


@blueprint.post("/assignments/<assignment_id>/retry")
def retry_assignment(assignment_id: str):
    return _one_assignment(RETRY, acting_on("assignment", assignment_id))


@blueprint.post("/assignments/<assignment_id>/drop")
def drop_assignment(assignment_id: str):
    return _one_assignment(DROP, acting_on("assignment", assignment_id))


def _one_assignment(action: str, row: int):
    done, exists = _act(action, [(ASSIGNMENT, row)])
    if not exists:
        return no_such("assignment", str(row))
    if not done:
        return error_response(409, "not_failed", f"assignment {row} is not a failed assignment")
    if wants_json():
        return {"status": "retried" if action == RETRY else "dropped", "assignment_id": row}
    return _back_to_page(action, done)


@blueprint.post("/failed/bulk")
def bulk():
    check_csrf()
    action = request.form.get("action", "")
    if action not in (RETRY, DROP):
        return error_response(400, "bad_action", "action is `retry` or `drop`")
    keys, refused = _chosen()
    if refused is not None:
        return refused
    if not keys:
        if wants_json():
            return error_response(400, "nothing_chosen", "no failed item was named (item=d<id>, w<id> or a<id>)")
        return render_dashboard(400, "Choose at least one failed item, or act on all that match the filter.")
    if request.form.get("confirm") != "1":
        if wants_json():
            return error_response(400, "confirm_required", f"{action} {len(keys)} failed item(s): send confirm=1 "
                                  "to do it")
        return _confirmation(action, keys)
    done, _ = _act(action, keys)
    if wants_json():
        return {"status": "retried" if action == RETRY else "dropped", "items": [f"{s}{i}" for s, i in done],
                "not_failed": [f"{s}{i}" for s, i in keys if (s, i) not in done]}
    return _back_to_page(action, done)


def _chosen() -> tuple[list[tuple[str, int]], object | None]:
    """The items the form names: `item` keys ticked (`scope=selected`), or every item the table's filters
    (posted as `failed.*`) match (`scope=matching`), oldest first, at most MAX_BULK."""
    if request.form.get("scope") == "matching":
        try:
            query = read_page(request.form, TABLE, failed_filters_now(), strict=wants_json())
        except BadQuery as exc:
            return [], error_response(400, "bad_query", exc.detail)
        with runtime().store.session() as session:
            rows = session.execute(matching(query, utcnow()).limit(MAX_BULK)).all()
        return [(row.source, row.item_id) for row in rows], None
    written = request.form.getlist("item")[:MAX_BULK * 2]
    keys = [item_key(text) for text in written]
    if wants_json() and any(key is None for key in keys):
        return [], error_response(400, "bad_item", "an item is d<delivery id>, w<write-back id> or a<assignment id>")
    return list(dict.fromkeys(key for key in keys if key is not None))[:MAX_BULK], None


def failed_filters_now():
    with runtime().store.session() as session:
        return failed_filters(session)


def _confirmation(action: str, keys: list[tuple[str, int]]):
    """The second step: what will be retried or dropped, item by item, and the form that does it."""
    items = _describe(keys)
    response = make_response(render_template(
        "admin/confirm_failed.html", action=action, items=items, csrf=auth.csrf_token(request, keyring()),
        back=_table_args(), cancel=url_for("admin.dashboard", **_table_args(), _anchor="failed")))
    response.headers["Cache-Control"] = "no-store"
    return response


def _describe(keys: list[tuple[str, int]]) -> list[dict]:
    deliveries = [i for s, i in keys if s == DELIVERY]
    writes = [i for s, i in keys if s == WRITE_BACK]
    waited = [i for s, i in keys if s == ASSIGNMENT]
    found: dict[tuple[str, int], dict] = {}
    with runtime().store.session() as session:
        if waited:
            for a in session.scalars(select(Assignment).where(Assignment.id.in_(waited))):
                found[(ASSIGNMENT, a.id)] = {"key": f"a{a.id}", "what": f"assignment {a.id}", "state": a.state,
                                             "ticket": f"{a.helpdesk} #{a.external_id}",
                                             "error": (a.last_error or "")[:200]}
        if deliveries:
            for d, ticket in session.execute(select(Delivery, TicketRecord).join(TicketRecord,
                                             TicketRecord.id == Delivery.ticket_id).where(Delivery.id.in_(deliveries))):
                found[(DELIVERY, d.id)] = {"key": f"d{d.id}", "what": f"delivery {d.id}", "state": d.state,
                                           "ticket": f"{ticket.helpdesk} #{ticket.external_id}",
                                           "error": (d.last_error or "")[:200]}
        if writes:
            for w, ticket in session.execute(select(WriteBack, TicketRecord).join(TicketRecord,
                                             TicketRecord.id == WriteBack.ticket_id).where(WriteBack.id.in_(writes))):
                found[(WRITE_BACK, w.id)] = {"key": f"w{w.id}", "what": f"{w.kind} write-back {w.id}",
                                             "state": w.state, "ticket": f"{ticket.helpdesk} #{ticket.external_id}",
                                             "error": (w.last_error or "")[:200]}
    return [found[key] for key in keys if key in found]


def _act(action: str, keys: list[tuple[str, int]]) -> tuple[list[tuple[str, int]], bool]:
    """Retry or drop the failed ones among `keys`, each with its audit entry, in one transaction; then send
    requeued deliveries to the queue and write retried write-backs. Returns (the keys acted on, whether any
    of `keys` exists at all)."""
    triage, actor = runtime(), operator(request)
    deliveries = [i for s, i in keys if s == DELIVERY]
    writes = [i for s, i in keys if s == WRITE_BACK]
    waited = [i for s, i in keys if s == ASSIGNMENT]
    with triage.store.session() as session:
        before_d = _deliveries_before(session, deliveries)
        before_w = _writes_before(session, writes)
        before_a = _assignments_before(session, waited)
        if action == RETRY:
            acted_d = inbox.retry(session, deliveries) if deliveries else []
            acted_w = [row for row, _, _ in corrections.requeue(session, writes)]
            acted_a = assignments.retry_failed(session, waited)
        else:
            acted_d = inbox.drop(session, deliveries)
            acted_w = corrections.drop(session, writes)
            acted_a = assignments.drop_failed(session, waited)
        for row in acted_d:
            after = {"state": session.get(Delivery, row).state}
            audit.record(session, actor, action, f"delivery:{row}", before_d[row], after)
        for row in acted_w:
            audit.record(session, actor, action, f"write-back:{row}", before_w[row],
                         {"state": session.get(WriteBack, row).state})
        for row in acted_a:
            audit.record(session, actor, action, f"assignment:{row}", before_a[row],
                         {"state": session.get(Assignment, row).state})
        exists = bool(acted_d or acted_w or acted_a or before_d or before_w or before_a)
    for row in acted_d if action == RETRY else ():
        try:
            triage.queue.enqueue(row)
        except Exception:  # stored as due: the sweeper sends it
            log.warning("enqueue after retry failed; the sweeper will pick it up", extra={"delivery_id": row})
    if action == RETRY and acted_w:
        _write_soon(triage, acted_w)
    log.info("failed items %s from the admin page", "retried" if action == RETRY else "dropped",
             extra={"deliveries": acted_d, "write_backs": acted_w, "assignments": acted_a, "operator": actor})
    return ([(DELIVERY, i) for i in acted_d] + [(WRITE_BACK, i) for i in acted_w]
            + [(ASSIGNMENT, i) for i in acted_a]), exists


def _deliveries_before(session, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = session.execute(select(Delivery, TicketRecord.helpdesk, TicketRecord.external_id)
                           .join(TicketRecord, TicketRecord.id == Delivery.ticket_id)
                           .where(Delivery.id.in_([i for i in ids if 0 < i <= inbox.MAX_ID])))
    return {d.id: {"state": d.state, "step": d.failed_step, "attempts": d.attempts,
                   "error": (d.last_error or "")[:300], "ticket": f"{helpdesk}:{external_id}"}
            for d, helpdesk, external_id in rows}


def _writes_before(session, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = session.execute(select(WriteBack, TicketRecord.external_id)
                           .join(TicketRecord, TicketRecord.id == WriteBack.ticket_id)
                           .where(WriteBack.id.in_([i for i in ids if 0 < i <= corrections.MAX_ID])))
    return {w.id: {"state": w.state, "kind": w.kind, "attempts": w.attempts, "error": (w.last_error or "")[:300],
                   "ticket": f"{w.helpdesk}:{external_id}", "category": (w.route or {}).get("category")}
            for w, external_id in rows}


def _assignments_before(session, ids: list[int]) -> dict[int, dict]:
    ids = [i for i in ids if 0 < i <= inbox.MAX_ID]
    if not ids:
        return {}
    return {a.id: {"state": a.state, "failures": a.failures, "error": (a.last_error or "")[:300],
                   "ticket": f"{a.helpdesk}:{a.external_id}", "group": a.group_id, "category": a.category}
            for a in session.scalars(select(Assignment).where(Assignment.id.in_(ids)))}


def _write_soon(triage, write_back_ids: list[int]) -> None:
    """Write the retried write-backs now, off the request (the page answers at once, as after a route)."""
    policy = corrections.RetryPolicy.from_settings(triage.settings)

    def write() -> None:
        try:
            corrections.apply_now(triage.store, triage.pipeline.helpdesks, policy, write_back_ids)
        except Exception as exc:  # pending in the store: the clock's sweep writes them
            log.warning("write after a retry from the admin page failed; the sweep carries on",
                        extra={"write_back_ids": write_back_ids, "error": str(exc)})

    admin_writes(triage).submit(write)


def _table_args() -> dict[str, str]:
    """The failed table's paging and filters as posted (`failed.*`), to come back to the same view."""
    return {name: value for name, value in request.form.items()
            if name.startswith(TABLE + ".") and isinstance(value, str) and len(value) <= 100}


def _back_to_page(action: str, done: list[tuple[str, int]]):
    keys = ",".join(f"{s}{i}" for s, i in done)
    told = {"retried": keys} if action == RETRY else {"gave_up": keys}
    return redirect(url_for("admin.dashboard", **_table_args(), **told, _anchor="failed"), code=303)
