"""What a helpdesk webhook turns into, and the ways a delivery can be refused.

Each helpdesk module verifies the sender and parses its own payload shapes into an `InboundEvent`;
the receivers in `webhooks/` only store it. Refusals carry the HTTP status and the JSON error body.
"""
from __future__ import annotations

from dataclasses import dataclass

# The event the store records lives in the store's layer (the receivers hand it down to `store.inbox`).
from store.inbound_event import TICKET_CREATED, InboundEvent, needs_fetch  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class IgnoredEvent:
    """A well-formed delivery of an event type we do not handle (answered 200)."""

    helpdesk: str
    event_type: str


@dataclass(frozen=True)
class TicketRerouted:
    """A ticket-updated delivery naming the ticket's group or category now (maybe an agent's re-routing,
    which `learning.rerouting` records as a correction when it differs from what we set), or its status or
    assignee (a solved or reassigned ticket frees an agent's slot for the tickets waiting for capacity)."""

    helpdesk: str
    ticket_id: str
    group: str | None
    category: str | None
    agent: str | None = None  # who made the change
    status: str | None = None
    assignee: str | None = None  # the assignee's id now


class DeliveryRejected(Exception):
    """A delivery we refuse; `status` and `code` become the HTTP answer."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class BadSignature(DeliveryRejected):
    status = 401
    code = "bad_signature"


class MalformedPayload(DeliveryRejected):
    status = 400
    code = "malformed_payload"


class PayloadTooLarge(DeliveryRejected):
    status = 413
    code = "payload_too_large"
