"""The review queue as the admin page shows it: tickets still waiting for a person, oldest first.

With Slack they are also in the review channel (`posted`); without it this queue is the only place.
"""
from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from store.models import PredictionRecord, ReviewMessage, TicketRecord


def open_reviews(session: Session, limit: int = 100) -> list[dict]:
    rows = session.execute(
        select(ReviewMessage, TicketRecord, PredictionRecord)
        .join(TicketRecord, TicketRecord.id == ReviewMessage.ticket_id)
        .outerjoin(PredictionRecord, and_(PredictionRecord.delivery_id == ReviewMessage.delivery_id,
                                          PredictionRecord.role == "champion"))
        .where(ReviewMessage.state == "open")
        .order_by(ReviewMessage.created_at, ReviewMessage.id)
        .limit(limit)
    )
    return [{
        "helpdesk": ticket.helpdesk, "external_id": ticket.external_id, "subject": ticket.subject,
        "category": prediction.category if prediction else None,
        "confidence": prediction.confidence if prediction else None,
        "posted": message.ts is not None, "channel": message.channel, "ts": message.ts,
        "since": message.created_at,
    } for message, ticket, prediction in rows]
