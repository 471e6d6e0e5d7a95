"""The store side of a history import: the resumable cursor, and the labelled tickets it brings in."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifier.ticket import Ticket
from store.models import BackfillCursor, TicketRecord
from store.types import utcnow

LABEL_SOURCE = "backfill"
KEEP_LABELS_FROM = ("slack", "helpdesk")  # a person's correction outranks the history's label


def cursor_for(session: Session, helpdesk: str, since: datetime, label_from: str, restart: bool = False) -> BackfillCursor:
    row = session.scalar(select(BackfillCursor).where(BackfillCursor.helpdesk == helpdesk, BackfillCursor.since == since,
                                                      BackfillCursor.label_from == label_from))
    if row is None:
        row = BackfillCursor(helpdesk=helpdesk, since=since, label_from=label_from, pages=0, seen=0, stored=0)
        session.add(row)
    elif restart:
        row.cursor, row.pages, row.seen, row.stored, row.finished_at = None, 0, 0, 0, None
    session.flush()
    return row


def save_page(session: Session, cursor_id: int, helpdesk: str, examples: list[tuple[str, Ticket, str]],
              seen: int, next_cursor: str | None, done: bool) -> BackfillCursor:
    """Store one page's labelled tickets and move the cursor past it, in one transaction."""
    for external_id, ticket, label in examples:
        store_example(session, helpdesk, external_id, ticket, label)
    row = session.get(BackfillCursor, cursor_id, with_for_update=True)
    row.cursor, row.pages, row.seen, row.stored = next_cursor, row.pages + 1, row.seen + seen, row.stored + len(examples)
    row.updated_at = utcnow()
    if done:
        row.finished_at = utcnow()
    return row


def store_example(session: Session, helpdesk: str, external_id: str, ticket: Ticket, label: str) -> None:
    record = session.scalar(select(TicketRecord).where(TicketRecord.helpdesk == helpdesk,
                                                       TicketRecord.external_id == external_id))
    if record is None:
        record = TicketRecord(helpdesk=helpdesk, external_id=external_id)
        session.add(record)
    record.subject, record.body = ticket.subject or record.subject, ticket.body or record.body
    record.channel = ticket.channel or record.channel
    record.tags = list(ticket.tags) or record.tags or []
    record.ticket_created_at = ticket.created_at or record.ticket_created_at
    if record.label_source not in KEEP_LABELS_FROM:
        record.label, record.label_source = label[:255], LABEL_SOURCE
    session.flush()
