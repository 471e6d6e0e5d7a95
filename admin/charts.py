"""Figures for the dashboard's charts, from the store: volume by category, automation rate, accuracy.

Days are UTC calendar days (the store keeps naive UTC, so SQL's `date()` gives the same day on SQLite and
PostgreSQL). Automation rate: tickets whose automatic route the helpdesk confirmed (route write-back
`done`), over every ticket the model decided; a route still pending, failed or dropped is not automation. Each
route is counted once, in its real state: a route whose delivery was dead-lettered is failed (not "not yet
written"), and one whose delivery an operator dropped is dropped.
Accuracy counts only tickets a person gave a verdict on: a review click (Slack or the admin page) that
confirmed or corrected the model, or an agent's re-routing in the helpdesk (the latest one wins); right
when that category is the predicted one. An auto-routed ticket nobody looked at is not evidence either way.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from admin.segments import UNKNOWN, language_of, tier_of
from store.inbox import DROPPED
from store.models import FAILED, Correction, Delivery, PredictionRecord, TicketRecord, WriteBack
from store.types import utcnow

AUTO = "auto"


def days_back(days: int, now: datetime | None = None) -> list[str]:
    today = (now or utcnow()).date()
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def _day(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def volume_by_category(session: Session, since: datetime, days: list[str]) -> dict:
    """{"days": [...], "series": {category: [count per day]}} of champion predictions."""
    day = func.date(PredictionRecord.created_at)
    rows = session.execute(
        select(day, PredictionRecord.category, func.count())
        .where(PredictionRecord.role == "champion", PredictionRecord.created_at >= since)
        .group_by(day, PredictionRecord.category)
    ).all()
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[int]] = {}
    for when, category, count in rows:
        if _day(when) in index:
            series.setdefault(category, [0] * len(days))[index[_day(when)]] += count
    return {"days": days, "series": dict(sorted(series.items()))}


def automation_rate(session: Session, since: datetime, days: list[str]) -> dict:
    """Per day (None on a day with no tickets) and overall: routed automatically and written, over decided."""
    P, W, D = PredictionRecord, WriteBack, Delivery
    day = func.date(P.created_at)
    rows = session.execute(
        select(day, P.decision, W.state, D.state, W.dry_run, func.count())
        .outerjoin(W, and_(W.delivery_id == P.delivery_id, W.kind == "route"))
        .outerjoin(D, D.id == P.delivery_id)
        .where(P.role == "champion", P.created_at >= since)
        .group_by(day, P.decision, W.state, D.state, W.dry_run)
    ).all()
    totals, autos = dict.fromkeys(days, 0), dict.fromkeys(days, 0)
    auto = {"decided": 0, "done": 0, "failed": 0, "dropped": 0, "pending": 0, "dry_run": 0}
    for when, decision, write_state, delivery_state, dry_run, count in rows:
        state = route_state(write_state, delivery_state)
        key = _day(when)
        if key not in totals:
            continue
        totals[key] += count
        if decision != AUTO:
            continue
        auto["decided"] += count
        auto[state if state in ("done", "failed", DROPPED) else "pending"] += count
        auto["dry_run"] += count if state == "done" and dry_run else 0
        autos[key] += count if state == "done" else 0
    rate = [round(autos[d] / totals[d], 4) if totals[d] else None for d in days]
    total = sum(totals.values())
    return {"days": days, "rate": rate, "tickets": [totals[d] for d in days], "auto": auto,
            "overall": round(auto["done"] / total, 4) if total else None, "total": total}


def route_state(write_state: str | None, delivery_state: str | None) -> str | None:
    """A route write-back's real state: its delivery's dead letter or drop counts too (rows written before the
    inbox marked the route with its delivery still say `pending`)."""
    if DROPPED in (write_state, delivery_state):
        return DROPPED
    if FAILED in (write_state, delivery_state):
        return FAILED
    return write_state


def accuracy(session: Session, since: datetime, tier_source: str = "organization") -> dict:
    """Accuracy among tickets with a person's verdict: overall, and by predicted category, language and tier
    (rows of key, judged, right, rate); `unjudged_auto` counts the auto-routed tickets nobody looked at."""
    P, T = PredictionRecord, TicketRecord
    verdicts = _latest_verdicts(session, since)
    judged_tickets = select(Correction.ticket_id).where(Correction.created_at >= since)
    rows = session.execute(
        select(P.ticket_id, P.category, P.derived, T.language, T.tier, T.organization, T.requester, T.tags)
        .join(T, T.id == P.ticket_id)
        .where(P.role == "champion", P.created_at >= since, P.ticket_id.in_(judged_tickets))
    ).all()
    groups: dict[str, dict[str, list[int]]] = {"category": {}, "language": {}, "tier": {}}
    overall = [0, 0]
    for row in rows:
        right = int(verdicts[row.ticket_id] == row.category)
        tier = tier_of(tier_source, organization=row.organization, requester=row.requester, tags=row.tags,
                       stored=row.tier)
        overall[0], overall[1] = overall[0] + 1, overall[1] + right
        for name, key in (("category", row.category or UNKNOWN), ("language", language_of(row.language, row.derived)),
                          ("tier", tier)):
            tally = groups[name].setdefault(key, [0, 0])
            tally[0] += 1
            tally[1] += right
    unjudged = session.scalar(select(func.count()).select_from(P).where(
        P.role == "champion", P.created_at >= since, P.decision == AUTO, P.ticket_id.not_in(judged_tickets)))
    result = {name: [_rate_row(key, judged, right) for key, (judged, right) in sorted(tally.items())]
              for name, tally in groups.items()}
    result["overall"] = _rate_row("all", *overall)
    result["unjudged_auto"] = unjudged or 0
    return result


def _rate_row(key: str, judged: int, right: int) -> dict:
    return {"key": key, "judged": judged, "right": right, "rate": round(right / judged, 4) if judged else None}


def _latest_verdicts(session: Session, since: datetime) -> dict[int, str]:
    verdicts: dict[int, str] = {}
    for ticket_id, to_category in session.execute(
            select(Correction.ticket_id, Correction.to_category).where(Correction.created_at >= since)
            .order_by(Correction.created_at, Correction.id)):
        verdicts[ticket_id] = to_category  # later rows win
    return verdicts
