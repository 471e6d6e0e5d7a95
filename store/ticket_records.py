"""A stored ticket as the classifier reads it: the one mapping from `TicketRecord` to `Ticket`, so that the
pipeline, the retrain from corrections and `triage train --from-store` give the models the same text and
the same sender domain; and a stored prediction as the classifier wrote it (`prediction_from_record`)."""
from __future__ import annotations

from classifier.email_text import email_domain
from classifier.prediction import FieldPrediction, Prediction
from classifier.ticket import Ticket
from store.models import PredictionRecord, TicketRecord


def ticket_from_record(record: TicketRecord) -> Ticket:
    return Ticket(subject=record.subject or "", body=record.body or "", channel=record.channel,
                  created_at=record.ticket_created_at, organization=record.organization, tier=record.tier,
                  tags=tuple(record.tags or ()), language=record.language,
                  sender_domain=email_domain(record.requester))


def prediction_from_record(record: PredictionRecord) -> Prediction:
    return Prediction(category=record.category, confidence=record.confidence, probabilities=record.probabilities,
                      explanation=list(record.explanation), model_version=record.model_version,
                      prediction_set=list(record.prediction_set),
                      fields={k: FieldPrediction(**v) for k, v in (record.fields or {}).items()},
                      derived=dict(record.derived or {}))
