"""An agent's own re-routing in the helpdesk, recorded as a correction (who, when, from, to).

The helpdesk side (a ticket-updated webhook) calls `record_rerouting` with the category the ticket now
has (mapped from its group or category field); when that differs from what we set, the ticket's label
becomes the agent's and a `helpdesk` correction is stored. The same update arriving twice records once.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from store.database import Store
from store.models import Correction, PredictionRecord, TicketRecord
from store.types import utcnow

log = logging.getLogger(__name__)


def record_rerouting(store: Store, helpdesk: str, external_id: str, category: str, agent: str | None,
                     at: datetime | None = None) -> bool:
    """True when a correction was recorded; False for an unknown ticket, our own route, or a repeat."""
    with store.session() as session:
        ticket = session.scalar(select(TicketRecord).where(TicketRecord.helpdesk == helpdesk,
                                                           TicketRecord.external_id == external_id))
        if ticket is None:
            return False
        ours = session.scalars(select(PredictionRecord).where(PredictionRecord.ticket_id == ticket.id,
                                                              PredictionRecord.role == "champion")
                               .order_by(PredictionRecord.id.desc()).limit(1)).first()
        current = ticket.label or (ours.category if ours else None)
        if current == category:
            return False
        session.add(Correction(ticket_id=ticket.id, source="helpdesk", user=agent, from_category=current,
                               to_category=category, model_version=ours.model_version if ours else None,
                               created_at=at or utcnow()))
        ticket.label, ticket.label_source = category, "helpdesk"
    log.info("agent re-routed a ticket", extra={"helpdesk": helpdesk, "ticket": external_id, "category": category})
    return True


def category_for(routing, helpdesk: str, group: str | None, field_value: str | None) -> list[str]:
    """The categories a helpdesk group or category-field value stands for (by the routing file, or by name)."""
    found = []
    for name, route in routing.categories.items():
        target = getattr(route, helpdesk, None)
        if field_value and (field_value.lower() == name.lower() or (
                target and target.field and str(target.field.value).lower() == field_value.lower())):
            found.append(name)
        elif not field_value and group and (group.lower() == name.lower() or (
                target and target.group is not None and str(target.group).lower() == group.lower())):
            found.append(name)
    if not found and field_value:
        found.append(field_value)  # a category the routing file does not name: take the field as is
    return found


def record_update(store: Store, routing, event) -> bool:
    """A `TicketRerouted` delivery: a correction when it points at exactly one category other than ours."""
    candidates = category_for(routing, event.helpdesk, event.group, event.category)
    if len(candidates) != 1:
        log.info("ticket update names no single category", extra={"helpdesk": event.helpdesk,
                                                                    "ticket": event.ticket_id, "group": event.group})
        return False
    return record_rerouting(store, event.helpdesk, event.ticket_id, candidates[0], event.agent)
