"""Freshdesk automation-rule webhooks ("Trigger webhook" action): check the sender, parse the body.

Freshdesk does not sign webhooks. The admin adds a custom header ``X-Webhook-Secret`` carrying the
shared secret (``FRESHDESK_WEBHOOK_SECRET``) to the rule's action; `verify` compares it in constant time.

Two body shapes (Encoding: JSON):

1. "Simple": the admin ticks fields and Freshdesk wraps them in ``{"freshdesk_webhook": {...}}`` under
   its own names: ``ticket_id``, ``ticket_subject``, ``ticket_description``, ``ticket_requester_email``
   (``requester_email`` in older rule bodies), ``ticket_tags`` (one comma-separated string: Freshdesk
   tags may contain spaces), ``ticket_created_at``, ``ticket_source``, ``ticket_company_name``,
   ``triggered_event``. ``{{triggered_event}}`` renders as ``{ticket_action:created}`` on a rule that
   runs on ticket creation; anything else (``{status:{from:Open,to:Pending}}``, notes...) comes from a
   rule on ticket updates and is ignored as ``ticket.updated`` for now.
2. "Custom" (Advanced): a flat body like Zendesk's, `RECOMMENDED_WEBHOOK_BODY`. ``event`` is optional,
   ``ticket.created`` by default; any other explicit event (``ticket.updated``) is ignored.

The description is HTML (``ticket_description``); it is kept as is, the classifier strips HTML.
Idempotency key: ``freshdesk:ticket.created:<ticket id>``: one ticket is processed once however often
the rule fires.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from classifier.ticket import Ticket
from integrations import payload_fields as fields
from integrations.http_headers import get_header
from integrations.inbound import TICKET_CREATED, BadSignature, IgnoredEvent, InboundEvent, TicketRerouted
from integrations.ticket_updates import TICKET_UPDATED, ticket_updated

HELPDESK = "freshdesk"
SECRET_HEADER = "X-Webhook-Secret"
SIMPLE_WRAPPER = "freshdesk_webhook"
SUPPORTED_EVENTS = (TICKET_CREATED,)
CREATED_TRIGGERED_EVENT = "{ticket_action:created}"

RECOMMENDED_WEBHOOK_BODY = """{
  "event": "ticket.created",
  "ticket_id": "{{ticket.id}}",
  "subject": "{{ticket.subject}}",
  "description": "{{ticket.description}}",
  "requester": "{{ticket.requester.email}}",
  "tags": "{{ticket.tags}}",
  "organization": "{{ticket.company.name}}",
  "channel": "{{ticket.source}}"
}"""


@dataclass(frozen=True)
class _Names:
    """Where each ticket field lives in one body shape (for `requester`, the first name present wins)."""

    ticket_id: str
    subject: str
    description: str
    requester: tuple[str, ...]
    tags: str
    created_at: str
    organization: str
    channel: str


SIMPLE_NAMES = _Names("ticket_id", "ticket_subject", "ticket_description",
                      ("ticket_requester_email", "requester_email"), "ticket_tags", "ticket_created_at",
                      "ticket_company_name", "ticket_source")
CUSTOM_NAMES = _Names("ticket_id", "subject", "description", ("requester", "requester_email"), "tags",
                      "created_at", "organization", "channel")


def verify_delivery(headers: Mapping[str, str], raw_body: bytes, secret: str, now: float,
                    tolerance_seconds: int) -> None:
    """The adapters' uniform check; Freshdesk signs nothing, so only the shared secret header counts."""
    verify(headers, secret)


def verify(headers: Mapping[str, str], secret: str) -> None:
    """Raise `BadSignature` unless the request carries our shared secret in `SECRET_HEADER`."""
    given = get_header(headers, SECRET_HEADER)
    if not given:
        raise BadSignature(f"missing header: {SECRET_HEADER}")
    if not secret:
        raise BadSignature("no Freshdesk webhook secret is configured")
    if not hmac.compare_digest(given.strip().encode(), secret.encode()):
        raise BadSignature(f"{SECRET_HEADER} does not match the configured secret")


def parse(payload: object) -> InboundEvent | TicketRerouted | IgnoredEvent:
    """The one entry point: simple (wrapped) or custom (flat) body -> event, or `MalformedPayload`."""
    body = fields.require_object(payload, "payload")
    if SIMPLE_WRAPPER in body:
        inner = fields.require_object(body[SIMPLE_WRAPPER], SIMPLE_WRAPPER)
        where, names = f"{SIMPLE_WRAPPER}.", SIMPLE_NAMES
    else:
        inner, where, names = body, "", CUSTOM_NAMES
    event = _event_type(inner, where)
    handler = _HANDLERS.get(event)
    if handler is None:
        return IgnoredEvent(HELPDESK, event)
    return handler(inner, names, where)


def _event_type(body: Mapping[str, object], where: str) -> str:
    """Our event name: explicit ``event`` first, then Freshdesk's ``triggered_event``, else created."""
    if "event" in body:
        event = fields.optional_text(body, "event", f"{where}event")
        return event.strip() if event and event.strip() else TICKET_CREATED
    triggered = fields.optional_text(body, "triggered_event", f"{where}triggered_event")
    if triggered is None or not triggered.strip():
        return TICKET_CREATED
    compact = "".join(triggered.split())
    return TICKET_CREATED if compact == CREATED_TRIGGERED_EVENT else TICKET_UPDATED


def _ticket_created(body: Mapping[str, object], names: _Names, where: str) -> InboundEvent:
    ticket_id = fields.ticket_id(body.get(names.ticket_id), f"{where}{names.ticket_id}")
    channel = fields.optional_label(body, names.channel, f"{where}{names.channel}")
    ticket = Ticket(
        subject=fields.optional_text(body, names.subject, f"{where}{names.subject}") or "",
        body=fields.optional_text(body, names.description, f"{where}{names.description}") or "",
        channel=channel.lower().replace(" ", "_") if channel else None,
        created_at=fields.optional_datetime(body, names.created_at),
        organization=fields.optional_label(body, names.organization, f"{where}{names.organization}"),
        tags=fields.optional_tags(body, names.tags, f"{where}{names.tags}", fields.split_on_commas),
    )
    requester = None
    for key in names.requester:
        requester = requester or fields.optional_label(body, key, f"{where}{key}")
    return InboundEvent.ticket_created(HELPDESK, ticket_id, ticket, requester)


_HANDLERS: dict[str, Callable[[Mapping[str, object], _Names, str], InboundEvent | TicketRerouted | IgnoredEvent]] = {
    TICKET_CREATED: _ticket_created,
    TICKET_UPDATED: lambda body, names, where: ticket_updated(HELPDESK, body, where, names.ticket_id),
}
