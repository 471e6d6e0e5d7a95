"""Shadow and canary: a challenger version predicts beside the champion on live tickets.

In shadow mode (TRIAGE_CHALLENGER set, TRIAGE_CANARY_SHARE 0) the challenger's prediction is recorded as
role `shadow` and never acted on. With a canary share, that share of deliveries (chosen by a hash of the
delivery id, so a retried delivery gets the same model) is decided by the challenger instead, and the
champion's prediction is the one kept as `shadow`. `report` compares both on the same deliveries.
Loads models, never trains: the web app and workers may import this.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.artifact import load_model
from classifier.registry import ModelRegistry
from learning.live_window import HUMAN_LABELS
from store.models import PredictionRecord, TicketRecord

log = logging.getLogger(__name__)


class Challenger:
    """The challenger model of one process, loaded on first use; None when it cannot be loaded."""

    def __init__(self, registry: ModelRegistry, version: str, canary_share: float = 0.0):
        self.registry, self.version, self.canary_share = registry, version, canary_share
        self._model, self._failed, self._lock = None, False, threading.Lock()

    def get(self):
        if self._model is None and not self._failed:
            with self._lock:
                if self._model is None and not self._failed:
                    try:
                        self._model = load_model(self.registry.versions_dir / self.version)
                    except Exception as exc:  # a missing challenger must not stop the champion
                        self._failed = True
                        log.warning("challenger not loaded", extra={"version": self.version, "error": str(exc)})
        return self._model

    def acts_on(self, delivery_id: int) -> bool:
        digest = hashlib.sha256(f"canary:{delivery_id}".encode()).hexdigest()
        return int(digest[:8], 16) / 0xFFFFFFFF < self.canary_share


def build_challenger(settings, registry: ModelRegistry) -> Challenger | None:
    if not settings.triage_challenger:
        return None
    return Challenger(registry, settings.triage_challenger, settings.triage_canary_share)


def _timed_predict(model, ticket):
    started = time.perf_counter()
    prediction = model.predict(ticket)
    return prediction, (time.perf_counter() - started) * 1000


def predict_pair(champion, challenger: Challenger | None, ticket, delivery_id: int):
    """(acting prediction, its latency in ms, shadow prediction or None) for one delivery. The latency is
    the acting model's alone: the shadow's time must not trip the latency alert."""
    prediction, latency_ms = _timed_predict(champion, ticket)
    model = challenger.get() if challenger is not None else None
    if model is None or model.version == prediction.model_version:
        return prediction, latency_ms, None
    try:
        other, other_ms = _timed_predict(model, ticket)
    except Exception as exc:
        log.warning("challenger prediction failed", extra={"version": challenger.version, "error": str(exc)})
        return prediction, latency_ms, None
    if challenger.acts_on(delivery_id):
        return other, other_ms, prediction
    return prediction, latency_ms, other


def report(session: Session, since: datetime | None = None) -> dict:
    """Per model version, on deliveries with both a champion and a shadow prediction: how often the two agree,
    and accuracy on tickets a person later labelled (Slack or the helpdesk)."""
    shadows = select(PredictionRecord.delivery_id).where(PredictionRecord.role == "shadow")
    query = select(PredictionRecord).where(PredictionRecord.delivery_id.in_(shadows))
    if since is not None:
        query = query.where(PredictionRecord.created_at >= since)
    pairs: dict[int, list[PredictionRecord]] = {}
    for row in session.scalars(query):
        pairs.setdefault(row.delivery_id, []).append(row)
    compared_tickets = select(PredictionRecord.ticket_id).where(PredictionRecord.role == "shadow")
    labels = dict(session.execute(select(TicketRecord.id, TicketRecord.label).where(  # only the compared tickets
        TicketRecord.id.in_(compared_tickets), TicketRecord.label_source.in_(HUMAN_LABELS))).all())
    versions: dict[str, dict] = {}
    agree = 0
    for rows in pairs.values():
        if len(rows) != 2:
            continue
        agree += rows[0].category == rows[1].category
        for row in rows:
            entry = versions.setdefault(row.model_version, {"predictions": 0, "acted": 0, "labelled": 0, "correct": 0})
            entry["predictions"] += 1
            entry["acted"] += row.role == "champion"
            if row.ticket_id in labels:
                entry["labelled"] += 1
                entry["correct"] += row.category == labels[row.ticket_id]
    compared = sum(1 for rows in pairs.values() if len(rows) == 2)
    for entry in versions.values():
        entry["accuracy"] = round(entry["correct"] / entry["labelled"], 4) if entry["labelled"] else None
    return {"deliveries": compared, "agreement": round(agree / compared, 4) if compared else None,
            "versions": versions}
