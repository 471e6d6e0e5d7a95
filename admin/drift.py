"""The drift panel: the latest figure of each drift check (metric x segment), PSI history, active alerts, and the
signals with learned thresholds (learning.drift_signals), each with whether it fired and a sentence on what it
means.

Reads `drift_checks` (written daily by the clock's drift check) and `alert_states`; with no rows it says
plainly that none are recorded. Once a check ran, every signal has a row: one the check could not compute
(a window under `MIN_WINDOW` tickets, a statistic the model does not record) says why, so the table the text
points to is never missing. The check's accuracy (`accuracy`, segment `all`) is shown with how it is counted,
beside the accuracy card's, because the two differ.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from learning.drift_signals import MIN_WINDOW, ORDER, sentence
from store.models import AlertState, DriftCheck

LATEST_WINDOW = timedelta(hours=6)  # one drift run writes its rows within this
HISTORY_METRIC_PREFIX = "psi"
DRIFT_WINDOW_DAYS = 7  # learning.drift.WINDOW_DAYS, for checks that did not record theirs


def drift_panel(session: Session, since: datetime) -> dict:
    check = DriftCheck
    latest = session.scalar(select(func.max(check.checked_at)))
    panel = {"latest": [], "signals": [], "checked_at": latest, "history": {"labels": [], "series": {}},
             "alerts": _active_alerts(session), "message": None, "accuracy": None}
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
    found = _signals([row for row in newest.values() if "fired" in (row.detail or {})])
    panel["signals"] = found + _not_checked(newest, {s["metric"] for s in found})
    panel["signals"].sort(key=lambda s: ORDER.index(s["metric"]) if s["metric"] in ORDER else len(ORDER))
    overall = newest.get(("accuracy", "all"))
    if overall is not None:
        panel["accuracy"] = {"value": overall.value, "n": overall.n,
                             "days": (overall.detail or {}).get("window_days", DRIFT_WINDOW_DAYS)}
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
                      "fired": bool(detail.get("fired")), "state": "fired" if detail.get("fired") else "quiet",
                      "n": row.n, "against": detail.get("against"),
                      "sentence": sentence(row.metric, row.value, detail.get("threshold"), bool(detail.get("fired")),
                                           detail.get("against", "training reference"))})
    return found


def _not_checked(newest: dict, found: set[str]) -> list[dict]:
    """A row for each signal the latest check did not compute, saying why (from the window size it recorded)."""
    window = newest.get(("low_confidence", "all"))
    n = window.n if window is not None else max((row.n or 0 for row in newest.values()), default=0)
    rows = []
    for metric in ORDER:
        if metric in found:
            continue
        if n < MIN_WINDOW:
            why = (f"Not checked: {n} ticket{'' if n == 1 else 's'} in this week's window; a signal needs at least "
                   f"{MIN_WINDOW} to tell drift from chance.")
        elif metric == "embedding_distance" and found:
            why = "Not measured: this model computes no sentence embeddings."
        elif metric == "oov_share" and found:
            why = "Not measured: this model's predictions do not record which words it knew."
        else:
            why = (f"Not checked: nothing to compare with (the model has no drift reference and the week before "
                   f"had fewer than {MIN_WINDOW} tickets).")
        rows.append({"metric": metric, "label": LABELS.get(metric, metric), "value": None, "threshold": None,
                     "side": "below" if metric == "mean_confidence" else "above", "fired": False,
                     "state": "not checked", "n": n, "against": None, "sentence": why})
    return rows


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
