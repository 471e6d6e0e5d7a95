"""The drift panel: the latest figure of each drift check (metric x segment), PSI history, active alerts, and the
signals with learned thresholds (learning.drift_signals), each with whether it fired and a sentence on what it
means.

Reads `drift_checks` (written daily by the clock's drift check) and `alert_states`; with no rows it says
plainly that none are recorded.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learning.drift_signals import ORDER, sentence
from store.models import AlertState, DriftCheck

LATEST_WINDOW = timedelta(hours=6)  # one drift run writes its rows within this
HISTORY_METRIC_PREFIX = "psi"


def drift_panel(session: Session, since: datetime) -> dict:
    check = DriftCheck
    latest = session.scalar(select(func.max(check.checked_at)))
    panel = {"latest": [], "signals": [], "checked_at": latest, "history": {"labels": [], "series": {}},
             "alerts": _active_alerts(session), "message": None}
    if latest is None:
        panel["message"] = "No drift data yet: the drift check has not run."
        return panel
    rows = session.scalars(select(check).where(check.checked_at >= latest - LATEST_WINDOW)
                           .order_by(check.metric, check.segment, check.checked_at)).all()
    newest: dict[tuple[str, str], object] = {}
    for row in rows:
        newest[(row.metric, row.segment)] = row  # later rows win
    panel["latest"] = [{"metric": r.metric, "segment": r.segment, "value": r.value, "n": r.n,
                        "model_version": r.model_version, "checked_at": r.checked_at} for r in newest.values()]
    panel["signals"] = _signals([row for row in newest.values() if "fired" in (row.detail or {})])
    panel["history"] = _history(session, check, since)
    return panel


LABELS = {"oov_share": "words never seen in training", "mean_confidence": "average confidence",
          "class_mix": "predicted-category mix", "embedding_distance": "distance from the learned categories"}


def _signals(rows: list) -> list[dict]:
    """The latest check's learned-threshold signals, in a fixed order, ready to show."""
    found = []
    for row in sorted(rows, key=lambda r: ORDER.index(r.metric) if r.metric in ORDER else len(ORDER)):
        detail = row.detail
        found.append({"metric": row.metric, "label": LABELS.get(row.metric, row.metric), "value": row.value,
                      "threshold": detail.get("threshold"), "side": detail.get("side", "above"),
                      "fired": bool(detail.get("fired")), "n": row.n, "against": detail.get("against"),
                      "sentence": sentence(row.metric, row.value, detail.get("threshold"), bool(detail.get("fired")),
                                           detail.get("against", "training reference"))})
    return found


def _history(session: Session, check, since: datetime) -> dict:
    """Overall PSI figures per check day: {"labels": [day...], "series": {metric: [value or None]}}."""
    rows = session.execute(
        select(check.checked_at, check.metric, check.value)
        .where(check.checked_at >= since, check.segment == "all", check.metric.like(f"{HISTORY_METRIC_PREFIX}%"))
        .order_by(check.checked_at)
    ).all()
    days = sorted({when.date().isoformat() for when, _, _ in rows})
    index = {day: i for i, day in enumerate(days)}
    series: dict[str, list] = {}
    for when, metric, value in rows:
        series.setdefault(metric, [None] * len(days))[index[when.date().isoformat()]] = value
    return {"labels": days, "series": series}


def _active_alerts(session: Session) -> list[dict]:
    return [{"key": a.key, "value": a.value, "message": a.message, "since": a.first_seen_at}
            for a in session.scalars(select(AlertState).where(AlertState.active.is_(True)).order_by(AlertState.key))]
