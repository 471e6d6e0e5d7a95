"""The dashboard's tables: failed items and model versions with their metrics (drift: admin.drift).

Failed items are everything that did not reach the helpdesk and nothing retries on its own, in one list:
- a dead-lettered delivery: kind `route` when it stopped writing its automatic route, else `delivery`
  (stopped before: reading, classifying, posting for review); retried at the step where it stopped;
- a failed stand-alone write-back (`integrations.corrections`): a correction from a review click or this page, or
  an automatic route that failed after its delivery finished; retried by writing it again.
- a ticket waiting for capacity whose assignment the helpdesk refused (`store.assignments.record_failure`): kind
  `assignment`; while the waiting queue still tries it (fewer than `MAX_FAILURES` refusals in a row) the row says
  so, after that nothing does; retried by letting the waiting queue apply it again.
An item leaves the list when it is retried, written, or dropped on purpose (the `dropped` state shows those).
Its key on the page is `d<delivery id>`, `w<write-back id>` or `a<assignment id>`.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import String, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from admin.paging import AGE_FILTER, HELPDESK_FILTER, Filter, age_cutoff, fetch_page, read_page, search_clause
from integrations.links import ticket_url
from learning.maintenance import PERMANENT
from store.inbox import DROPPED
from store import assignments
from store.models import FAILED, ROUTED, Assignment, Correction, Delivery, ModelVersion, PredictionRecord, TicketRecord, WriteBack
from integrations.corrections import standalone

METRIC_KEYS = ("n", "accuracy", "macro_f1", "weighted_f1", "ece", "coverage", "automation_rate")
PROMOTABLE = ("available", "previous", "rejected")  # registry statuses the page offers to promote (by hand)
# what each status on the models table means: its legend and each status cell's tooltip
STATUSES = (("current", "serving: the registry's pointer names it"),
            ("current (bundled starter)", "serving: no registry version is current, so the starter model shipped "
                                          "with triage answers"),
            ("previous", "was current before; Roll back returns to the latest of these"),
            ("retired", "was current, replaced by a later promotion or a roll back; kept, and can be promoted again "
                        "while its folder is in the registry"),
            ("available", "trained and checked, never promoted"),
            ("rejected", "a retrain that was not better than the current model on held-out tickets; "
                         "can still be promoted by hand"),
            ("candidate", "being evaluated against the current model"),
            ("broken", "its files fail their checks (hashes, format, library versions): it cannot load"))
STARTER_CAVEAT = ("The starter's own training figures: measured on held-out rows of the public data set it was "
                  "trained on, not on your tickets. The accuracy card shows how it does on yours.")
TABLE = "failed"  # its names in the query string: failed.page, failed.q, failed.kind, ...
DELIVERY, WRITE_BACK, ASSIGNMENT = "d", "w", "a"
KINDS = (("route", "automatic route"), ("correction", "correction"), ("delivery", "delivery (before routing)"),
         ("assignment", "assignment (waiting ticket)"))
STATES = ((FAILED, "failed (default)"), (DROPPED, "dropped"))
_KEY = re.compile(r"([dwa])([1-9][0-9]{0,9})")
MAX_ID = 2**31 - 1


def item_key(text: str) -> tuple[str, int] | None:
    """`d12` -> ("d", 12) (`w`: write-back, `a`: assignment): a failed item named in a form; None for text no item can have."""
    found = _KEY.fullmatch(text.strip()) if isinstance(text, str) else None
    if found is None or int(found.group(2)) > MAX_ID:
        return None
    return found.group(1), int(found.group(2))


def failed_filters(session: Session) -> list[Filter]:
    return [Filter("state", "state", STATES), Filter("kind", "kind", KINDS),
            Filter("category", "category", _category_choices(session)), HELPDESK_FILTER, AGE_FILTER]


def failed_items(session: Session, settings, now: datetime, args=None, strict: bool = False) -> dict:
    """One page of the failed items as asked in the query string (`failed.*`), and how many are failed in all."""
    query = read_page(args or {}, TABLE, failed_filters(session), strict=strict)
    stmt = matching(query, now)
    overall = count_failed(session)
    page = fetch_page(session, stmt, query, overall=overall)
    page.rows = [_row(row, settings, now) for row in page.rows]
    return {"page": page, "rows": page.rows, "count": overall, "state": query.get("state") or FAILED}


def matching(query, now: datetime):
    """The select of the items the query's state, filters and search name, oldest first."""
    items = _items(query.get("state") or FAILED).subquery("items")
    conditions = [search_clause(query.search, items.c.external_id, items.c.subject, items.c.error)]
    for name in ("kind", "category", "helpdesk"):
        if query.get(name) is not None:
            conditions.append(items.c[name] == query.get(name))
    cutoff = age_cutoff(query.get("age"), now)
    if cutoff is not None:
        conditions.append(items.c.since <= cutoff)
    return select(items).where(*conditions).order_by(items.c.since, items.c.source, items.c.item_id)


def count_failed(session: Session) -> int:
    items = _items(FAILED).subquery()
    return session.scalar(select(func.count()).select_from(items)) or 0


def _items(state: str):
    """Failed (or dropped) deliveries, stand-alone write-backs and assignments as rows of one shape."""
    D, W, T = Delivery, WriteBack, TicketRecord
    predicted = (select(PredictionRecord.category).where(PredictionRecord.delivery_id == D.id,
                                                         PredictionRecord.role == "champion")
                 .limit(1).scalar_subquery())
    deliveries = (select(literal(DELIVERY, String).label("source"), D.id.label("item_id"),
                         case((D.failed_step == ROUTED, literal("route", String)),
                              else_=literal("delivery", String)).label("kind"),
                         D.helpdesk.label("helpdesk"), T.external_id.label("external_id"), T.subject.label("subject"),
                         predicted.label("category"), D.failed_step.label("step"), D.attempts.label("attempts"),
                         D.last_error.label("error"), D.received_at.label("since"), D.request_id.label("request_id"))
                  .join(T, T.id == D.ticket_id).where(D.state == state))
    corrected = (select(Correction.to_category).where(Correction.ticket_id == W.ticket_id,
                                                      Correction.source.in_(("slack", "admin")))
                 .order_by(Correction.id.desc()).limit(1).scalar_subquery())
    routed = (select(PredictionRecord.category).where(PredictionRecord.delivery_id == W.delivery_id,
                                                      PredictionRecord.role == "champion")
              .limit(1).scalar_subquery())
    write_backs = (select(literal(WRITE_BACK, String).label("source"), W.id.label("item_id"), W.kind.label("kind"),
                          W.helpdesk.label("helpdesk"), T.external_id.label("external_id"), T.subject.label("subject"),
                          case((W.kind == "correction", corrected), else_=routed).label("category"),
                          literal("write", String).label("step"), W.attempts.label("attempts"),
                          W.last_error.label("error"), W.created_at.label("since"),
                          literal(None, String).label("request_id"))
                   .join(T, T.id == W.ticket_id).where(W.state == state, standalone()))
    A = Assignment
    refused = (or_(A.state == assignments.FAILED, and_(A.state == assignments.WAITING, A.last_error.is_not(None)))
               if state == FAILED else A.state == assignments.DROPPED)
    waited = (select(literal(ASSIGNMENT, String).label("source"), A.id.label("item_id"),
                     literal("assignment", String).label("kind"), A.helpdesk.label("helpdesk"),
                     A.external_id.label("external_id"), T.subject.label("subject"), A.category.label("category"),
                     literal("assign", String).label("step"), A.failures.label("attempts"),
                     A.last_error.label("error"), func.coalesce(A.waiting_since, A.created_at).label("since"),
                     literal(None, String).label("request_id"))
              .outerjoin(T, and_(T.helpdesk == A.helpdesk, T.external_id == A.external_id)).where(refused))
    return union_all(deliveries, write_backs, waited)


def _row(row, settings, now: datetime) -> dict:
    return {"automatic": automatic_retry(row, settings, now), "key": f"{row.source}{row.item_id}", "source": row.source, "id": row.item_id, "kind": row.kind,
            "helpdesk": row.helpdesk, "external_id": row.external_id, "subject": (row.subject or "")[:120],
            "category": row.category, "step": row.step or "received", "attempts": row.attempts,
            "error": (row.error or "")[:300], "since": row.since, "request_id": row.request_id,
            "url": ticket_url(row.helpdesk, row.external_id, settings)}


def automatic_retry(row, settings, now: datetime) -> str | None:
    """When the clock will retry this item by itself, or None when nothing will (said on the row, never implied):
    only a dead letter whose error was not permanent, for `TRIAGE_RETRY_FAILED_HOURS` after it arrived, and a
    waiting ticket's refused assignment until it was refused `MAX_FAILURES` times in a row."""
    if row.source == ASSIGNMENT:
        left = assignments.MAX_FAILURES - (row.attempts or 0)
        return (f"next round of the waiting queue ({left} more refusal{'s' if left > 1 else ''} and it stops)"
                if left > 0 else None)
    if row.source != DELIVERY or (row.error or "").startswith(PERMANENT) or row.since is None:
        return None
    until = row.since + timedelta(hours=settings.triage_retry_failed_hours)
    if until <= now:
        return None
    return f"every {settings.triage_retry_failed_minutes} min until {until:%Y-%m-%d %H:%M} UTC"


def _category_choices(session: Session) -> tuple[tuple[str, str], ...]:
    """Categories a failed item can have: the model's guesses and reviewers' choices the store knows."""
    names = set(session.scalars(select(PredictionRecord.category).distinct().where(PredictionRecord.role == "champion")
                                .limit(500)))
    names |= set(session.scalars(select(Correction.to_category).distinct().limit(500)))
    return tuple((name, name) for name in sorted(n for n in names if n))


def failed_deliveries(session: Session, limit: int = 200) -> list[dict]:
    """Dead-lettered deliveries alone, oldest first (`triage events`' view; the page shows `failed_items`)."""
    rows = session.scalars(select(Delivery).where(Delivery.state == FAILED).order_by(Delivery.id).limit(limit))
    return [{"id": d.id, "helpdesk": d.helpdesk, "key": d.idempotency_key, "step": d.failed_step or "received",
             "attempts": d.attempts, "error": (d.last_error or "")[:300], "received_at": d.received_at,
             "request_id": d.request_id} for d in rows]


def model_versions(session: Session, registry_versions: list[dict], serving: str | None) -> list[dict]:
    """The store's promotion history merged with the registry's artifacts, newest first."""
    merged: dict[str, dict] = {}
    for manifest in registry_versions:
        merged[manifest["version"]] = {"version": manifest["version"], "status": manifest.get("status"),
                                       "created": manifest.get("created"),
                                       "metrics": pick_metrics(manifest.get("metrics") or {}),
                                       "reason": manifest.get("error"),
                                       "promotable": manifest.get("status") in PROMOTABLE,
                                       "caveat": STARTER_CAVEAT if manifest.get("starter") else None}
    for row in session.scalars(select(ModelVersion)):
        entry = merged.setdefault(row.version, {"version": row.version, "metrics": {}})
        entry["status"] = row.status if entry.get("status") in (None, "available", "previous") else entry["status"]
        entry["created"] = entry.get("created") or row.created_at.isoformat(timespec="seconds")
        entry["metrics"] = entry["metrics"] or pick_metrics(row.metrics or {})
        entry["reason"] = row.reason or entry.get("reason")
        entry["promoted_at"] = row.promoted_at
    if serving and serving not in merged:  # the bundled starter model
        merged[serving] = {"version": serving, "status": "current", "created": None, "metrics": {}, "reason": None}
    meanings = dict(STATUSES)
    for entry in merged.values():
        entry["serving"] = entry["version"] == serving
        entry["meaning"] = meanings.get(entry.get("status") or "", "")
    return sorted(merged.values(), key=lambda e: str(e.get("created") or ""), reverse=True)


def pick_metrics(metrics: dict) -> dict:
    """The headline figures of a manifest's metrics: top level, or under a key starting with `holdout`,
    `test` or `evaluation` (e.g. the starter's `holdout_20pct_before_refit`)."""
    flat = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    for key, nested in metrics.items():
        if isinstance(nested, dict) and key.startswith(("holdout", "test", "evaluation")):
            flat = {**nested, **flat}
            break
    return {key: flat[key] for key in METRIC_KEYS if isinstance(flat.get(key), (int, float))}
