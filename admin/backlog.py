"""The backlog and latency panel: what is waiting now, and how fast tickets went through over the last day.

Backlog: unfinished deliveries by state and the age of the oldest, tickets waiting for a person's review
and the age of the oldest, write-backs not yet confirmed by the helpdesk (pending: still being tried) and those
that failed (nothing retries them: they wait on the failed items), each counted once in its real state (a route
whose delivery was dead-lettered is failed, one dropped is in neither). Latency, last 24 hours: p50/p99 of the
model's prediction time (`predictions.latency_ms`) and of received -> done per delivery that finished `done`
(routed automatically, or posted for review; a person's review time is not in it, nor a dropped delivery's wait).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.charts import route_state
from store.models import DONE, OPEN_STATES, Delivery, PredictionRecord, ReviewMessage, WriteBack
from store.types import utcnow

WINDOW = timedelta(hours=24)
MAX_SAMPLES = 200_000  # the newest this many of a day's figures (a percentile of more moves no further)


def backlog(session: Session, now: datetime | None = None) -> dict:
    now = now or utcnow()
    by_state = dict.fromkeys(OPEN_STATES, 0)
    for state, count in session.execute(select(Delivery.state, func.count())
                                        .where(Delivery.state.in_(OPEN_STATES)).group_by(Delivery.state)):
        by_state[state] = count
    oldest_delivery = session.scalar(select(func.min(Delivery.received_at)).where(Delivery.state.in_(OPEN_STATES)))
    reviews, oldest_review = session.execute(select(func.count(), func.min(ReviewMessage.created_at))
                                             .where(ReviewMessage.state == "open")).one()
    writes = write_back_states(session)
    return {
        "deliveries": by_state, "open_deliveries": sum(by_state.values()),
        "oldest_delivery_seconds": _age(now, oldest_delivery),
        "reviews": reviews or 0, "oldest_review_seconds": _age(now, oldest_review),
        "pending_write_backs": {kind: writes.get((kind, "pending"), 0) for kind in ("route", "correction")},
        "failed_write_backs": {kind: writes.get((kind, "failed"), 0) for kind in ("route", "correction")},
        "latency": latency(session, now),
    }


def write_back_states(session: Session) -> dict[tuple[str, str], int]:
    """{(kind, state): count} of write-backs not written, a route in its delivery's state if that failed or was
    dropped (a correction shares its review's delivery, whose state says nothing about the correction)."""
    W, D = WriteBack, Delivery
    rows = session.execute(select(W.kind, W.state, D.state, func.count()).outerjoin(D, D.id == W.delivery_id)
                           .where(W.state.in_(("pending", "failed"))).group_by(W.kind, W.state, D.state)).all()
    found: dict[tuple[str, str], int] = {}
    for kind, write_state, delivery_state, count in rows:
        state = route_state(write_state, delivery_state) if kind == "route" else write_state
        found[(kind, state)] = found.get((kind, state), 0) + count
    return found


def latency(session: Session, now: datetime) -> dict:
    since = now - WINDOW
    predicted = session.scalars(
        select(PredictionRecord.latency_ms)
        .where(PredictionRecord.role == "champion", PredictionRecord.created_at >= since,
               PredictionRecord.latency_ms.is_not(None))
        .order_by(PredictionRecord.id.desc()).limit(MAX_SAMPLES)).all()
    finished = session.execute(
        select(Delivery.received_at, Delivery.finished_at)
        .where(Delivery.state == DONE, Delivery.finished_at >= since, Delivery.finished_at.is_not(None))
        .order_by(Delivery.id.desc()).limit(MAX_SAMPLES)).all()
    end_to_end = [(done - received).total_seconds() * 1000 for received, done in finished if received and done]
    return {"prediction_ms": percentiles(predicted), "end_to_end_ms": percentiles(end_to_end)}


def percentiles(values) -> dict:
    """{"n", "p50", "p99"} (linear interpolation, as numpy's default); None figures without values."""
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return {"n": 0, "p50": None, "p99": None}
    return {"n": len(ordered), "p50": round(_at(ordered, 0.50), 1), "p99": round(_at(ordered, 0.99), 1)}


def _at(ordered: list[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _age(now: datetime, since: datetime | None) -> float | None:
    return max(0.0, (now - since).total_seconds()) if since else None


def duration(seconds: float | None) -> str:
    """A short age for a card: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`; an en dash for none."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def milliseconds(value: float | None) -> str:
    """A latency for a card: `18 ms` below a second, else seconds with one decimal."""
    if value is None:
        return "–"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:,.1f} s"
