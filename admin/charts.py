"""Figures for the dashboard's charts, from the store: volume by category, automation rate, accuracy.

Days are UTC calendar days (the store keeps naive UTC, so SQL's `date()` gives the same day on SQLite and
PostgreSQL). Accuracy is measured from corrections: a prediction counts as judged when a person gave a
category (a Slack click or an agent's re-routing, the latest one wins), or when it was auto-routed and
nobody changed it; it is right when the person's category is the predicted one. Tickets still waiting
in review are not judged yet.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Correction, PredictionRecord, TicketRecord
from store.types import utcnow

AUTO = "auto"
UNKNOWN = "unknown"


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
    """Share of tickets routed without a person, per day (None on a day with no tickets), and overall."""
    day = func.date(PredictionRecord.created_at)
    rows = session.execute(
        select(day, PredictionRecord.decision, func.count())
        .where(PredictionRecord.role == "champion", PredictionRecord.created_at >= since)
        .group_by(day, PredictionRecord.decision)
    ).all()
    totals, autos = dict.fromkeys(days, 0), dict.fromkeys(days, 0)
    for when, decision, count in rows:
        key = _day(when)
        if key in totals:
            totals[key] += count
            autos[key] += count if decision == AUTO else 0
    rate = [round(autos[d] / totals[d], 4) if totals[d] else None for d in days]
    total = sum(totals.values())
    return {"days": days, "rate": rate, "tickets": [totals[d] for d in days],
            "overall": round(sum(autos.values()) / total, 4) if total else None, "total": total}


def accuracy(session: Session, since: datetime) -> dict:
    """Accuracy by predicted category, by language and by customer tier: rows of key, judged, right, rate."""
    verdicts = _latest_verdicts(session, since)
    rows = session.execute(
        select(PredictionRecord.ticket_id, PredictionRecord.category, PredictionRecord.decision,
               TicketRecord.language, TicketRecord.tier)
        .join(TicketRecord, TicketRecord.id == PredictionRecord.ticket_id)
        .where(PredictionRecord.role == "champion", PredictionRecord.created_at >= since)
    ).all()
    groups: dict[str, dict[str, list[int]]] = {"category": {}, "language": {}, "tier": {}}
    for ticket_id, category, decision, language, tier in rows:
        verdict = verdicts.get(ticket_id)
        if verdict is None and decision != AUTO:
            continue  # still with a person, or left to agents without a category
        right = int(verdict is None or verdict == category)
        for name, key in (("category", category), ("language", language), ("tier", tier)):
            tally = groups[name].setdefault(key or UNKNOWN, [0, 0])
            tally[0] += 1
            tally[1] += right
    return {name: [{"key": key, "judged": judged, "right": right, "rate": round(right / judged, 4)}
                   for key, (judged, right) in sorted(tally.items())]
            for name, tally in groups.items()}


def _latest_verdicts(session: Session, since: datetime) -> dict[int, str]:
    verdicts: dict[int, str] = {}
    for ticket_id, to_category in session.execute(
            select(Correction.ticket_id, Correction.to_category).where(Correction.created_at >= since)
            .order_by(Correction.created_at, Correction.id)):
        verdicts[ticket_id] = to_category  # later rows win
    return verdicts
