"""Labelled tickets in the store, for `triage train --from-store`: history imported by `triage backfill`
and the corrections people made (Slack, the helpdesk). Tickets whose text was purged are left out."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.ticket import Ticket
from store.models import TicketRecord
from store.ticket_records import ticket_from_record


def labelled_examples(session: Session, helpdesk: str | None = None,
                      sources: tuple[str, ...] | None = None) -> list[tuple[Ticket, str]]:
    """(Ticket, label) for every labelled ticket with text, oldest first; filter by helpdesk or label source."""
    query = select(TicketRecord).where(TicketRecord.label.is_not(None), TicketRecord.purged_at.is_(None))
    if helpdesk:
        query = query.where(TicketRecord.helpdesk == helpdesk)
    if sources:
        query = query.where(TicketRecord.label_source.in_(sources))
    examples = []
    for record in session.scalars(query.order_by(TicketRecord.id)):
        if not (record.subject or record.body):
            continue
        examples.append((ticket_from_record(record), record.label))
    return examples


def labelled_frame(session: Session, helpdesk: str | None = None):
    """The same as a pandas DataFrame with `text`, `subject`, `body` and `label` columns."""
    import pandas as pd

    rows = [{"text": t.text, "subject": t.subject, "body": t.body, "label": label}
            for t, label in labelled_examples(session, helpdesk)]
    return pd.DataFrame(rows, columns=["text", "subject", "body", "label"])
