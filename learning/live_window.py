"""The live tickets of a time window, as the drift check and the alerts need them: the acting prediction,
the ticket's text and segments, and the label a person gave (a Slack click or an agent's re-routing).

Measured accuracy: a ticket counts when a person labelled it, or when we auto-routed it and nobody
re-routed it (then the route stood, so it was right); tickets in review that nobody clicked are unknown.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import PredictionRecord, TicketRecord

HUMAN_LABELS = ("slack", "helpdesk")
MIN_SEGMENT = 5  # segments with fewer judged tickets are left out (too noisy to show)


@dataclass
class LiveTicket:
    category: str
    confidence: float
    decision: str
    latency_ms: float | None
    language: str | None
    text: str | None  # None once purged
    tier: str | None
    organization: str | None
    label: str | None  # from a person
    derived: dict | None = None  # the prediction's per-ticket figures (language, vocabulary_coverage, ...)

    @property
    def judged(self) -> bool:
        return self.label is not None or self.decision == "auto"

    @property
    def correct(self) -> bool:
        return (self.label or self.category) == self.category


def window(session: Session, since: datetime, until: datetime | None = None,
           with_text: bool = True) -> list[LiveTicket]:
    """Acting predictions made in [since, until), with their tickets; `with_text=False` skips the texts."""
    P, T = PredictionRecord, TicketRecord
    texts = (T.subject, T.body) if with_text else ()
    query = (select(P.category, P.confidence, P.decision, P.latency_ms, P.derived, T.language, T.tier,
                    T.organization, T.label, T.label_source, T.purged_at, *texts)
             .join(T, T.id == P.ticket_id).where(P.role == "champion", P.created_at >= since))
    if until is not None:
        query = query.where(P.created_at < until)
    rows = []
    for row in session.execute(query.order_by(P.id)):
        text = f"{row.subject or ''}\n{row.body or ''}".strip() if with_text and row.purged_at is None else None
        rows.append(LiveTicket(
            category=row.category, confidence=row.confidence, decision=row.decision, latency_ms=row.latency_ms,
            language=(row.derived or {}).get("language") or row.language, text=text, tier=row.tier,
            organization=row.organization, label=row.label if row.label_source in HUMAN_LABELS else None,
            derived=row.derived or {}))
    return rows


def measured_accuracy(rows: list[LiveTicket]) -> dict:
    """{"all": (accuracy, n), "category:X": ..., "language:X": ..., "tier:X": ..., "org:X": ...}."""
    groups: dict[str, list[bool]] = {}
    for row in rows:
        if not row.judged:
            continue
        keys = ["all", f"category:{row.label or row.category}"]
        keys += [f"{name}:{value}" for name, value in (("language", row.language), ("tier", row.tier),
                                                        ("org", row.organization)) if value]
        for key in keys:
            groups.setdefault(key, []).append(row.correct)
    return {key: (round(sum(values) / len(values), 4), len(values)) for key, values in groups.items()
            if key == "all" or len(values) >= MIN_SEGMENT}


def low_confidence_share(rows: list[LiveTicket]) -> tuple[float | None, int]:
    if not rows:
        return None, 0
    return round(sum(row.decision != "auto" for row in rows) / len(rows), 4), len(rows)


def latency_p99(rows: list[LiveTicket]) -> tuple[float | None, int]:
    import numpy as np

    values = [row.latency_ms for row in rows if row.latency_ms is not None]
    return (round(float(np.percentile(values, 99)), 1), len(values)) if values else (None, 0)
