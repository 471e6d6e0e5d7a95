"""`POST /webhooks/zendesk` and `POST /webhooks/freshdesk`: verify, parse, store, answer.

The delivery is committed to the store before we answer 202, and nothing slow happens here: no
helpdesk or Slack call, no model. Checks run cheapest-first and before trusting the body: size,
sender, JSON, shape. An event type we do not handle is a normal outcome (200) logged on its own logger.
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Blueprint, current_app, g, jsonify, request

from webhooks.http_errors import error_response
from webhooks.request_body import BodyRefused, parse_json, read_body
from integrations.inbound import DeliveryRejected, IgnoredEvent, MalformedPayload, PayloadTooLarge, TicketRerouted
from learning.rerouting import record_update
from store import assignments, inbox
from telemetry.metrics import WEBHOOK_DELIVERIES

log = logging.getLogger(__name__)
ignored_log = logging.getLogger("triage.webhooks.ignored")

blueprint = Blueprint("webhooks", __name__)


SECRETS = {"zendesk": "zendesk_webhook_secret", "freshdesk": "freshdesk_webhook_secret"}


@blueprint.post("/webhooks/<helpdesk>")
def receive(helpdesk: str):
    if helpdesk not in SECRETS:
        return error_response(404, "unknown_helpdesk", f"no receiver for {helpdesk!r}; use zendesk or freshdesk")
    runtime = current_app.extensions["triage"]
    settings = runtime.settings
    secret_name = SECRETS[helpdesk]
    secret = getattr(settings, secret_name)
    if not secret:
        return error_response(404, "not_configured", f"{helpdesk} webhooks are off: set {secret_name.upper()}")
    try:
        raw = _read_body(settings.triage_max_body_bytes)
        adapter = runtime.pipeline.helpdesks[helpdesk]  # the same adapter that later writes the route back
        adapter.verify(request.headers, raw, secret, time.time(), settings.triage_webhook_tolerance_seconds)
        event = adapter.parse(_json(raw))
    except DeliveryRejected as exc:
        log.info("delivery rejected", extra={"helpdesk": helpdesk, "error": exc.code, "detail": exc.detail})
        WEBHOOK_DELIVERIES.labels(helpdesk, exc.code).inc()
        return error_response(exc.status, exc.code, exc.detail)
    if isinstance(event, IgnoredEvent):
        ignored_log.info("ignored event", extra={"helpdesk": helpdesk, "event_type": event.event_type})
        WEBHOOK_DELIVERIES.labels(helpdesk, "ignored").inc()
        return jsonify(ignored=event.event_type), 200
    if isinstance(event, TicketRerouted):  # an agent moved the ticket: a correction if it differs from ours
        recorded = record_update(runtime.store, runtime.routing, event) if event.group or event.category else False
        answer = {"correction": recorded}
        if event.status or event.assignee:  # a finished or reassigned ticket: maybe a freed slot
            answer["capacity"] = _capacity_changed(runtime.store, event)
        outcome = "correction" if recorded else ("updated" if answer.get("capacity") else "ignored")
        WEBHOOK_DELIVERIES.labels(helpdesk, outcome).inc()
        return jsonify(answer), 200
    with runtime.store.autocommit() as connection:  # one statement on PostgreSQL, committed when it returns
        delivery_id, new = inbox.record_delivery(connection, event, request_id=g.get("request_id"))
    if new:
        _enqueue(runtime.queue, delivery_id)
    log.info("delivery accepted", extra={"helpdesk": helpdesk, "delivery_id": delivery_id, "duplicate": not new,
                                         "ticket_id": event.ticket_id})
    WEBHOOK_DELIVERIES.labels(helpdesk, "accepted" if new else "duplicate").inc()
    return jsonify(status="accepted", delivery_id=delivery_id, duplicate=not new), 202


def _capacity_changed(store, event: TicketRerouted) -> bool:
    """Solved or reassigned: the agents' counts are read again at the next chance (`store.assignments`)."""
    with store.session() as session:
        return assignments.ticket_changed(session, event.helpdesk, event.ticket_id, event.status, event.assignee)


def _read_body(limit: int) -> bytes:
    try:
        return read_body(limit)
    except BodyRefused as exc:
        raise PayloadTooLarge(exc.detail) from None


def _json(raw: bytes) -> object:
    try:
        return parse_json(raw)
    except BodyRefused as exc:
        raise MalformedPayload(exc.detail) from None


def _enqueue(queue, delivery_id: int) -> None:
    """The delivery is already stored: if the queue is down, the sweeper sends it later."""
    try:
        queue.enqueue(delivery_id)
    except Exception:
        log.warning("enqueue failed; the sweeper will pick it up", extra={"delivery_id": delivery_id})


# A caller's X-Request-Id is kept only if it is a short, plain token: it is stored (64-character column),
# logged and echoed in our response header, so anything else is replaced by an id of our own.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def assign_request_id() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
