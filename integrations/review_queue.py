"""The review queue as the admin page shows it: tickets still waiting for a person, oldest first.

With Slack they are also in the review channel (`posted`); without it this queue is the only place. The
page routes them with the same `ClickRecorder` as a Slack click (see `admin.review_actions`).
Only the head of a subject is read from the store (`SUBJECT_CHARS`): a 1 MB subject is never loaded whole.
"""
from __future__ import annotations

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from classifier.limits import head
from store.models import PredictionRecord, ReviewMessage, TicketRecord

SUBJECT_CHARS = 200


def open_reviews(session: Session, limit: int = 100) -> list[dict]:
    """The oldest `limit` waiting tickets (the admin page pages with `open_reviews_select` instead)."""
    return [review_dict(row) for row in session.execute(open_reviews_select().limit(limit))]


def open_reviews_select(*conditions) -> Select:
    """Waiting reviews with their ticket and champion prediction, oldest first, narrowed by `conditions` (on
    `ReviewMessage`, `TicketRecord`, `PredictionRecord` columns). Only the subject's head is read."""
    return (
        select(ReviewMessage.id, ReviewMessage.channel, ReviewMessage.ts, ReviewMessage.created_at,
               TicketRecord.helpdesk, TicketRecord.external_id,
               func.substr(TicketRecord.subject, 1, SUBJECT_CHARS + 1).label("subject"),
               PredictionRecord.category, PredictionRecord.confidence, PredictionRecord.probabilities,
               PredictionRecord.model_version)
        .join(TicketRecord, TicketRecord.id == ReviewMessage.ticket_id)
        .outerjoin(PredictionRecord, and_(PredictionRecord.delivery_id == ReviewMessage.delivery_id,
                                          PredictionRecord.role == "champion"))
        .where(ReviewMessage.state == "open", *conditions)
        .order_by(ReviewMessage.created_at, ReviewMessage.id)
    )


def review_dict(row) -> dict:
    """One row of `open_reviews_select` as the page and Slack code read it."""
    return {
        "id": row.id, "helpdesk": row.helpdesk, "external_id": row.external_id,
        "subject": _cut(row.subject), "category": row.category, "confidence": row.confidence,
        "choices": ranked_categories(row.probabilities), "model_version": row.model_version,
        "posted": row.ts is not None, "channel": row.channel, "ts": row.ts, "since": row.created_at,
    }


def open_review_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ReviewMessage).where(ReviewMessage.state == "open"))


def ranked_categories(probabilities: dict | None) -> list[tuple[str, float]]:
    """The model's categories, likeliest first (the ones a reviewer may choose, as in Slack's menu)."""
    if not isinstance(probabilities, dict):
        return []
    return sorted(((str(c), float(p)) for c, p in probabilities.items() if isinstance(p, (int, float))),
                  key=lambda item: (-item[1], item[0]))


def _cut(subject: str | None) -> str:
    text = head(subject or "", SUBJECT_CHARS + 1)
    return text if len(text) <= SUBJECT_CHARS else text[: SUBJECT_CHARS - 1].rstrip() + "…"
