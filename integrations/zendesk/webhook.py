"""Zendesk webhooks: check the signature, turn the body into an `InboundEvent`.

Two body shapes arrive at the same endpoint:

1. Event subscription (webhook subscribed to ``zen:event-type:ticket.created``). Zendesk writes the
   body: top-level ``type``, ``id`` (the event id), ``time``, ``subject`` ("zen:ticket:<id>") and the
   ticket under ``detail``. Ids in ``detail`` are JSON strings ("35436"), not numbers.
   Other ``zen:event-type:*`` types are ignored (200), not refused.
2. Trigger webhook (a ticket trigger "Notify webhook" action). The admin writes the body from
   placeholders; `RECOMMENDED_TRIGGER_BODY` is the one the README tells them to paste.
   Placeholders render as text, so ``tags`` arrives as one space-separated string and the creation
   time only as ISO 8601 via ``{{ticket.created_at_with_timestamp}}`` ("2013-12-12T05:35Z", no
   seconds); ``{{ticket.created_at}}`` renders for people ("May 18, 2014"). ``{{ticket.description}}``
   renders the first comment *with a header* (a dashed line, then "Name, date"), which we strip.
   Zendesk may also suppress placeholders (anti-spam rules), so a blank subject or description
   means "fetch the ticket" (``needs_fetch=True``), not an empty ticket.

Idempotency: both shapes use ``zendesk:ticket.created:<ticket id>``, not the event id, so that a
trigger firing twice, a redelivered event, and an event plus a trigger for the same ticket are all
processed once.

Signing (both shapes): ``X-Zendesk-Webhook-Signature`` is base64(HMAC-SHA256(secret, timestamp + raw
body)) where the timestamp is the ``X-Zendesk-Webhook-Signature-Timestamp`` header, ISO 8601 UTC
("2021-10-26T20:45:15Z"), not Unix seconds.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from classifier.ticket import Ticket
from integrations import payload_fields as fields
from integrations.http_headers import get_header
from integrations.inbound import (TICKET_CREATED, BadSignature, IgnoredEvent, InboundEvent, MalformedPayload,
                                  TicketRerouted)
from integrations.ticket_updates import TICKET_UPDATED, ticket_updated

HELPDESK = "zendesk"
SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
EVENT_TYPE_PREFIX = "zen:event-type:"
SUPPORTED_EVENTS = (TICKET_CREATED,)

RECOMMENDED_TRIGGER_BODY = """{
  "event": "ticket.created",
  "ticket_id": "{{ticket.id}}",
  "subject": "{{ticket.title}}",
  "description": "{{ticket.description}}",
  "requester": "{{ticket.requester.email}}",
  "tags": "{{ticket.tags}}",
  "created_at": "{{ticket.created_at_with_timestamp}}",
  "organization": "{{ticket.organization.name}}",
  "channel": "{{ticket.via}}"
}"""

# {{ticket.via}} renders a display name ("Web Form", "Mail"); events carry the API's via.channel.
_CHANNEL_ALIASES = {"web_form": "web", "mail": "email", "web_service": "api"}
_NO_ORGANIZATION = "0"  # event payloads write an absent id as "0"


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str, now: float, tolerance_seconds: int) -> None:
    """Raise `BadSignature` unless the request was signed by Zendesk with `secret` within the tolerance."""
    signature = get_header(headers, SIGNATURE_HEADER)
    timestamp = get_header(headers, TIMESTAMP_HEADER)
    missing = [name for name, value in ((SIGNATURE_HEADER, signature), (TIMESTAMP_HEADER, timestamp)) if not value]
    if missing:
        raise BadSignature(f"missing header(s): {', '.join(missing)}")
    assert signature is not None and timestamp is not None
    if not secret:
        raise BadSignature("no Zendesk signing secret is configured")
    skew = now - _seconds_since_epoch(timestamp)
    if abs(skew) > tolerance_seconds:
        when = "old" if skew > 0 else "in the future"
        raise BadSignature(f"{TIMESTAMP_HEADER} is {abs(skew):.0f} s {when}; more than {tolerance_seconds} s allowed")
    digest = hmac.new(secret.encode(), timestamp.encode() + raw_body, hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(digest), signature.strip().encode()):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body (wrong secret or altered body)")


def _seconds_since_epoch(timestamp: str) -> float:
    try:
        sent_at = datetime.fromisoformat(timestamp.strip())
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=timezone.utc)
        return sent_at.timestamp()
    except (ValueError, OverflowError):
        raise BadSignature(f"{TIMESTAMP_HEADER} is not an ISO 8601 time: {timestamp[:40]!r}") from None


def parse(payload: object) -> InboundEvent | TicketRerouted | IgnoredEvent:
    """The one entry point: event-subscription body or trigger body -> event, or `MalformedPayload`."""
    body = fields.require_object(payload, "payload")
    kind = body.get("type")
    if isinstance(kind, str) and kind.startswith(EVENT_TYPE_PREFIX):
        handler = _EVENT_HANDLERS.get(kind)
        if handler is None:
            return IgnoredEvent(HELPDESK, kind.removeprefix(EVENT_TYPE_PREFIX))
        return handler(body)
    event = body.get("event", TICKET_CREATED)
    if not isinstance(event, str):
        raise MalformedPayload("event: expected a string such as 'ticket.created'")
    event = event.strip() or TICKET_CREATED
    handler = _TRIGGER_HANDLERS.get(event)
    if handler is None:
        return IgnoredEvent(HELPDESK, event)
    return handler(body)


def _event_ticket_created(body: Mapping[str, object]) -> InboundEvent:
    detail = fields.require_object(body.get("detail"), "detail")
    raw_id = detail.get("id")
    if raw_id is None and isinstance(body.get("subject"), str):
        raw_id = str(body["subject"]).removeprefix("zen:ticket:")  # "subject": "zen:ticket:35436"
    ticket_id = fields.ticket_id(raw_id, "detail.id")
    via = fields.optional_object(detail, "via", "detail.via")
    organization = fields.optional_label(detail, "organization_id", "detail.organization_id")
    ticket = Ticket(
        subject=fields.optional_text(detail, "subject", "detail.subject") or "",
        body=fields.optional_text(detail, "description", "detail.description") or "",
        channel=_channel(fields.optional_label(via, "channel", "detail.via.channel") if via else None),
        created_at=fields.optional_datetime(detail, "created_at"),
        organization=None if organization == _NO_ORGANIZATION else organization,
        tags=fields.optional_tags(detail, "tags", "detail.tags", fields.split_on_whitespace),
    )
    return _ticket_created(ticket_id, ticket, requester=None)


def _trigger_ticket_created(body: Mapping[str, object]) -> InboundEvent:
    ticket_id = fields.ticket_id(body.get("ticket_id"), "ticket_id")
    ticket = Ticket(
        subject=fields.optional_text(body, "subject", "subject") or "",
        body=strip_comment_header(fields.optional_text(body, "description", "description") or ""),
        channel=_channel(fields.optional_label(body, "channel", "channel")),
        created_at=fields.optional_datetime(body, "created_at"),
        organization=fields.optional_label(body, "organization", "organization"),
        tags=fields.optional_tags(body, "tags", "tags", fields.split_on_whitespace),
    )
    requester = fields.optional_label(body, "requester", "requester")
    return _ticket_created(ticket_id, ticket, requester=requester)


def _ticket_created(ticket_id: str, ticket: Ticket, requester: str | None) -> InboundEvent:
    return InboundEvent.ticket_created(HELPDESK, ticket_id, ticket, requester)


def _channel(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = raw.strip().lower().replace(" ", "_").replace("-", "_")
    return _CHANNEL_ALIASES.get(name, name) or None


def strip_comment_header(text: str) -> str:
    """Drop the "-----\\n\\nName, date\\n\\n" header that {{ticket.description}} puts before the comment.

    Only a body that starts with such a rule is split into lines: others (a megabyte of lines) cost no split."""
    text = text.strip()
    if not _starts_with_rule(text[:_RULE_PEEK_CHARS].splitlines()):
        return text
    lines = text.splitlines()
    if len(lines) < 2 or not _starts_with_rule(lines):
        return text
    first = next((i for i in range(1, len(lines)) if lines[i].strip()), len(lines))  # no pop(0): linear
    return "\n".join(lines[first + 1:]).strip()  # lines[first] is "Name, date"


_RULE_PEEK_CHARS = 200


def _starts_with_rule(lines: list[str]) -> bool:
    rule = lines[0].strip() if lines else ""
    return len(rule) >= 10 and set(rule) == {"-"}


_EVENT_HANDLERS: dict[str, Callable[[Mapping[str, object]], InboundEvent]] = {
    EVENT_TYPE_PREFIX + TICKET_CREATED: _event_ticket_created,
}
_TRIGGER_HANDLERS: dict[str, Callable[[Mapping[str, object]], InboundEvent | TicketRerouted | IgnoredEvent]] = {
    TICKET_CREATED: _trigger_ticket_created,
    TICKET_UPDATED: lambda body: ticket_updated(HELPDESK, body),  # an agent's re-routing (learning.rerouting)
}


verify_delivery = verify  # the adapters' uniform name (Freshdesk's needs no body or clock)
