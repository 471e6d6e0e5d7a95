"""Ticket-updated deliveries that say where a ticket is now (both helpdesks, custom/trigger bodies).

A body with ``"event": "ticket.updated"`` and a ``group`` (name or id) or ``category`` (the category
field's value), and optionally who changed it (``updated_by``), becomes a `TicketRerouted`; without either
it stays an ignored event, as before. Recommended trigger/rule bodies:
Zendesk ``{"event": "ticket.updated", "ticket_id": "{{ticket.id}}", "group": "{{ticket.group.id}}",
"updated_by": "{{current_user.email}}"}``; Freshdesk ``{"event": "ticket.updated", "ticket_id":
"{{ticket.id}}", "group": "{{ticket.group_name}}", "updated_by": "{{triggered_by}}"}``.
"""
from __future__ import annotations

from collections.abc import Mapping

from integrations import payload_fields as fields
from integrations.inbound import IgnoredEvent, TicketRerouted

TICKET_UPDATED = "ticket.updated"
GROUP_KEYS = ("group", "group_id", "ticket_group_name", "ticket_group_id")
CATEGORY_KEYS = ("category", "ticket_category")
AGENT_KEYS = ("updated_by", "agent", "triggered_by")


def ticket_updated(helpdesk: str, body: Mapping[str, object], where: str = "",
                   id_key: str = "ticket_id") -> TicketRerouted | IgnoredEvent:
    group = _first(body, GROUP_KEYS, where)
    category = _first(body, CATEGORY_KEYS, where)
    if group is None and category is None:
        return IgnoredEvent(helpdesk, TICKET_UPDATED)
    return TicketRerouted(helpdesk=helpdesk, ticket_id=fields.ticket_id(body.get(id_key), f"{where}{id_key}"),
                          group=group, category=category, agent=_first(body, AGENT_KEYS, where))


def _first(body: Mapping[str, object], keys: tuple[str, ...], where: str) -> str | None:
    for key in keys:
        value = fields.optional_label(body, key, f"{where}{key}")
        if value:
            return value
    return None
