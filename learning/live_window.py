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

    @property
    def judged(self) -> bool:
        return self.label is not None or self.decision == "auto"

    @property
    def correct(self) -> bool:
        return (self.label or self.category) == self.category


def window(session: Session, since: datetime, until: datetime | None = None) -> list[LiveTicket]:
    query = (select(PredictionRecord, TicketRecord).join(TicketRecord, TicketRecord.id == PredictionRecord.ticket_id)
             .where(PredictionRecord.role == "champion", PredictionRecord.created_at >= since))
    if until is not None:
        query = query.where(PredictionRecord.created_at < until)
    rows = []
    for prediction, ticket in session.execute(query.order_by(PredictionRecord.id)):
        text = None if ticket.purged_at is not None else f"{ticket.subject or ''}\n{ticket.body or ''}".strip()
        rows.append(LiveTicket(
            category=prediction.category, confidence=prediction.confidence, decision=prediction.decision,
            latency_ms=prediction.latency_ms, language=(prediction.derived or {}).get("language") or ticket.language,
            text=text, tier=ticket.tier, organization=ticket.organization,
            label=ticket.label if ticket.label_source in HUMAN_LABELS else None))
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
