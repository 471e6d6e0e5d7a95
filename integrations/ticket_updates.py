"""Ticket-updated deliveries that say where a ticket is now (both helpdesks, custom/trigger bodies).

A body with ``"event": "ticket.updated"`` and a ``group`` (name or id), ``category`` (the category
field's value), ``status`` or ``assignee`` (the assignee's id), and optionally who changed it
(``updated_by``), becomes a `TicketRerouted`; without any of them it stays an ignored event, as before.
Recommended trigger/rule bodies:
Zendesk ``{"event": "ticket.updated", "ticket_id": "{{ticket.id}}", "group": "{{ticket.group.id}}",
"status": "{{ticket.status}}", "assignee": "{{ticket.assignee.id}}", "updated_by": "{{current_user.email}}"}``;
Freshdesk ``{"event": "ticket.updated", "ticket_id": "{{ticket.id}}", "group": "{{ticket.group_name}}",
"status": "{{ticket.status}}", "assignee": "{{ticket.agent.id}}", "updated_by": "{{triggered_by}}"}``.
"""
from __future__ import annotations

from collections.abc import Mapping

from integrations import payload_fields as fields
from integrations.inbound import IgnoredEvent, TicketRerouted

TICKET_UPDATED = "ticket.updated"
GROUP_KEYS = ("group", "group_id", "ticket_group_name", "ticket_group_id")
CATEGORY_KEYS = ("category", "ticket_category")
AGENT_KEYS = ("updated_by", "agent", "triggered_by")
STATUS_KEYS = ("status", "ticket_status")
# statuses that end an agent's work on a ticket (Zendesk, Freshdesk names; Freshdesk's codes): only these
# matter here (a freed slot); any other status change stays an ignored event
FINISHED_STATUSES = ("solved", "closed", "resolved", "4", "5")
ASSIGNEE_KEYS = ("assignee", "assignee_id", "responder_id", "ticket_assignee_id")


def ticket_updated(helpdesk: str, body: Mapping[str, object], where: str = "",
                   id_key: str = "ticket_id") -> TicketRerouted | IgnoredEvent:
    group = _first(body, GROUP_KEYS, where)
    category = _first(body, CATEGORY_KEYS, where)
    status = _first(body, STATUS_KEYS, where)
    if status is not None and status.strip().lower() not in FINISHED_STATUSES:
        status = None
    assignee = _first(body, ASSIGNEE_KEYS, where)
    if group is None and category is None and status is None and assignee is None:
        return IgnoredEvent(helpdesk, TICKET_UPDATED)
    return TicketRerouted(helpdesk=helpdesk, ticket_id=fields.ticket_id(body.get(id_key), f"{where}{id_key}"),
                          group=group, category=category, agent=_first(body, AGENT_KEYS, where),
                          status=status, assignee=assignee)


def _first(body: Mapping[str, object], keys: tuple[str, ...], where: str) -> str | None:
    for key in keys:
        value = fields.optional_label(body, key, f"{where}{key}")
        if value:
            return value
    return None
