"""Freshdesk webhooks: one test per wire-format fixture, the shared-secret header, bad input -> 400 only."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpdesk_signing import freshdesk_headers
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.ticket import Ticket
from integrations.freshdesk import webhook
from integrations.inbound import BadSignature, DeliveryRejected, IgnoredEvent, InboundEvent, MalformedPayload

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "freshdesk"
SECRET = "fd-shared-secret-0123456789"

EXPECTED: dict[str, InboundEvent | IgnoredEvent] = {
    "ticket_created__simple": InboundEvent(
        helpdesk="freshdesk",
        event_type="ticket.created",
        ticket_id="11",
        ticket=Ticket(
            subject="Printer on fire ☃",
            body="<div>The office printer started smoking after the last firmware update.</div>"
            "<div><br></div><div>Model: LaserJet 4000</div>",
            channel="email",
            created_at=datetime(2024, 3, 14, 10, 20, 30, tzinfo=timezone.utc),
            organization="Acme Corp",
            tags=("hardware", "printer", "firmware update"),
        ),
        idempotency_key="freshdesk:ticket.created:11",
        needs_fetch=False,
        requester="requester-bob@example.com",
    ),
    "ticket_created__simple_legacy_names": InboundEvent(
        helpdesk="freshdesk",
        event_type="ticket.created",
        ticket_id="12",
        ticket=Ticket(subject="How do I export my invoices?", body="<div>I need all invoices from 2023 as PDF.</div>"),
        idempotency_key="freshdesk:ticket.created:12",
        needs_fetch=False,
        requester="alice@example.com",
    ),
    "ticket_created__custom": InboundEvent(
        helpdesk="freshdesk",
        event_type="ticket.created",
        ticket_id="4021",
        ticket=Ticket(
            subject="Wrong VAT on invoice INV-2024-118",
            body='<div dir="ltr">Hello,<br>the invoice shows 19% VAT but we are exempt.<br>Thanks, Marta</div>',
            channel="portal",
            created_at=datetime(2024, 3, 14, 10, 20, tzinfo=timezone.utc),
            organization="Example GmbH",
            tags=("billing", "vat"),
        ),
        idempotency_key="freshdesk:ticket.created:4021",
        needs_fetch=False,
        requester="marta@example.de",
    ),
    "ticket_created__custom_minimal": InboundEvent(
        helpdesk="freshdesk",
        event_type="ticket.created",
        ticket_id="4022",
        ticket=Ticket(),
        idempotency_key="freshdesk:ticket.created:4022",
        needs_fetch=True,
    ),
    "ticket_updated__custom": IgnoredEvent("freshdesk", "ticket.updated"),
    "ticket_updated__simple": IgnoredEvent("freshdesk", "ticket.updated"),
}


def load(name: str) -> object:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def fixture_names() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


# --- fixtures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_parses_to_the_expected_event(name):
    assert name in EXPECTED, f"fixture {name}.json has no expected result in this test module"
    assert webhook.parse(load(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_event_type_is_declared_supported_or_ignored(name):
    event_type = name.split("__")[0].replace("_", ".", 1)
    result = webhook.parse(load(name))
    assert result.event_type == event_type
    if event_type in webhook.SUPPORTED_EVENTS:
        assert isinstance(result, InboundEvent)
    else:
        assert isinstance(result, IgnoredEvent)


def test_every_expected_result_has_a_fixture():
    assert sorted(EXPECTED) == fixture_names()


def test_simple_and_custom_bodies_for_one_ticket_share_one_key():
    simple = {"freshdesk_webhook": {"ticket_id": 4021, "ticket_subject": "s", "ticket_description": "d"}}
    assert webhook.parse(simple).idempotency_key == webhook.parse(load("ticket_created__custom")).idempotency_key


def test_the_recommended_body_is_json_and_parses_once_filled_in():
    body = json.loads(webhook.RECOMMENDED_WEBHOOK_BODY)
    filled = {**body, "ticket_id": "9", "subject": "Hi", "description": "<p>Body</p>", "requester": "a@b.c",
              "tags": "a, b c", "organization": "Org", "channel": "Phone"}
    event = webhook.parse(filled)
    assert event.ticket == Ticket(subject="Hi", body="<p>Body</p>", channel="phone", organization="Org",
                                  tags=("a", "b c"))
    assert event.requester == "a@b.c"


@pytest.mark.parametrize(
    ("triggered_event", "expected"),
    [("{ticket_action:created}", "ticket.created"), ("{ ticket_action : created }", "ticket.created"),
     ("{note_type:private}", "ticket.updated"), ("", "ticket.created")],
)
def test_triggered_event_decides_the_event(triggered_event, expected):
    payload = {"freshdesk_webhook": {"ticket_id": "5", "triggered_event": triggered_event}}
    assert webhook.parse(payload).event_type == expected


# --- malformed payloads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (None, "payload"),
        ([{"ticket_id": 1}], "payload"),
        ({}, "ticket_id"),
        ({"ticket_id": ""}, "ticket_id"),
        ({"ticket_id": "#12"}, "ticket_id"),
        ({"ticket_id": 3.0}, "ticket_id"),
        ({"ticket_id": False}, "ticket_id"),
        ({"ticket_id": "1", "subject": ["s"]}, "subject"),
        ({"ticket_id": "1", "tags": {"billing": True}}, "tags"),
        ({"ticket_id": "1", "requester": ["a@b.c"]}, "requester"),
        ({"ticket_id": "1", "event": ["ticket.created"]}, "event"),
        ({"freshdesk_webhook": "ticket"}, "freshdesk_webhook"),
        ({"freshdesk_webhook": {}}, "freshdesk_webhook.ticket_id"),
        ({"freshdesk_webhook": {"ticket_id": "x"}}, "freshdesk_webhook.ticket_id"),
        ({"freshdesk_webhook": {"ticket_id": 1, "ticket_subject": 2}}, "freshdesk_webhook.ticket_subject"),
        ({"freshdesk_webhook": {"ticket_id": 1, "ticket_tags": 2}}, "freshdesk_webhook.ticket_tags"),
        ({"freshdesk_webhook": {"ticket_id": 1, "ticket_description": {}}}, "freshdesk_webhook.ticket_description"),
        ({"freshdesk_webhook": {"ticket_id": 1, "triggered_event": 7}}, "freshdesk_webhook.triggered_event"),
    ],
)
def test_malformed_payload_names_the_field(payload, field):
    with pytest.raises(MalformedPayload) as caught:
        webhook.parse(payload)
    assert caught.value.detail.startswith(f"{field}:"), caught.value.detail


@pytest.mark.parametrize("created_at", ["not a date", 1700000000, "", None])
def test_unparsable_created_at_is_treated_as_missing(created_at):
    assert webhook.parse({"ticket_id": "1", "created_at": created_at}).ticket.created_at is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["ticket_id", "subject", "description", "tags", "requester", "requester_email",
                               "created_at", "organization", "channel", "event", "triggered_event",
                               "ticket_subject", "ticket_description", "ticket_tags", "ticket_requester_email",
                               "ticket_created_at", "ticket_source", "ticket_company_name", "freshdesk_webhook"])
payloads = (
    json_values
    | st.dictionaries(field_names, json_values, max_size=8)
    | st.dictionaries(field_names, json_values, max_size=8).map(lambda inner: {"freshdesk_webhook": inner})
)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_parse_returns_an_event_or_refuses_the_delivery(payload):
    try:
        result = webhook.parse(payload)
    except DeliveryRejected:
        return
    assert isinstance(result, (InboundEvent, IgnoredEvent))


# --- shared-secret header ---------------------------------------------------------------------


def test_right_secret_passes():
    webhook.verify(freshdesk_headers(SECRET), SECRET)


def test_header_is_found_whatever_its_case():
    webhook.verify({"x-webhook-secret": SECRET}, SECRET)
    webhook.verify({"X-WEBHOOK-SECRET": SECRET}, SECRET)


def test_missing_header_is_refused():
    with pytest.raises(BadSignature, match="missing header: X-Webhook-Secret"):
        webhook.verify({"Content-Type": "application/json"}, SECRET)


@pytest.mark.parametrize("given_secret", ["wrong", SECRET[:-1], SECRET + "x", "sécret"])
def test_wrong_secret_is_refused(given_secret):
    with pytest.raises(BadSignature, match="does not match"):
        webhook.verify(freshdesk_headers(given_secret), SECRET)


def test_empty_configured_secret_refuses_everything():
    with pytest.raises(BadSignature):
        webhook.verify(freshdesk_headers(""), "")
    with pytest.raises(BadSignature):
        webhook.verify(freshdesk_headers("anything"), "")
