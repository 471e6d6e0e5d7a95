"""A stored ticket as the classifier reads it: the one mapping from `TicketRecord` to `Ticket`, so that the
pipeline, the retrain from corrections and `triage train --from-store` give the models the same text and
the same sender domain."""
from __future__ import annotations

from classifier.email_text import email_domain
from classifier.ticket import Ticket
from store.models import TicketRecord


def ticket_from_record(record: TicketRecord) -> Ticket:
    return Ticket(subject=record.subject or "", body=record.body or "", channel=record.channel,
                  created_at=record.ticket_created_at, organization=record.organization, tier=record.tier,
                  tags=tuple(record.tags or ()), language=record.language,
                  sender_domain=email_domain(record.requester))
