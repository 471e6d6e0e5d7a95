"""A helpdesk delivery as the store records it: the ticket it announces and the key that makes it idempotent.

Each helpdesk module (`integrations.<key>.webhook`) parses its own payloads into one of these; `store.inbox`
records it. It lives here, below both, so that the store never imports the integrations layer.
"""
from __future__ import annotations

from dataclasses import dataclass

from classifier.ticket import Ticket

TICKET_CREATED = "ticket.created"


def needs_fetch(ticket: Ticket) -> bool:
    """Subject or body missing (or blank: Zendesk may suppress placeholders): the worker fetches the ticket."""
    return not ticket.subject.strip() or not ticket.body.strip()


@dataclass(frozen=True)
class InboundEvent:
    helpdesk: str  # "zendesk" | "freshdesk"
    event_type: str  # our name, e.g. TICKET_CREATED
    ticket_id: str  # the helpdesk's ticket id, as text
    ticket: Ticket  # what the payload carried; may lack subject/body
    idempotency_key: str  # same delivery again -> same key
    needs_fetch: bool = False  # subject or description missing: the worker fetches the ticket
    requester: str | None = None

    @classmethod
    def ticket_created(cls, helpdesk: str, ticket_id: str, ticket: Ticket, requester: str | None) -> "InboundEvent":
        """Keyed by helpdesk and ticket, not by event: the same ticket announced twice is processed once."""
        return cls(helpdesk=helpdesk, event_type=TICKET_CREATED, ticket_id=ticket_id, ticket=ticket,
                   idempotency_key=f"{helpdesk}:{TICKET_CREATED}:{ticket_id}",
                   needs_fetch=needs_fetch(ticket), requester=requester)
