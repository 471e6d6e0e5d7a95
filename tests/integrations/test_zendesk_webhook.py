"""Zendesk webhooks: one test per wire-format fixture, the signature rules, and bad input -> 400 only."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from helpdesk_signing import zendesk_signed_headers, zendesk_timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.ticket import Ticket
from integrations.inbound import BadSignature, DeliveryRejected, IgnoredEvent, InboundEvent, MalformedPayload
from integrations.zendesk import webhook

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zendesk"
SECRET = "dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0"
TOLERANCE = 300

EXPECTED: dict[str, InboundEvent | IgnoredEvent] = {
    "ticket_created__event_subscription": InboundEvent(
        helpdesk="zendesk",
        event_type="ticket.created",
        ticket_id="5158",
        ticket=Ticket(
            subject="Charged twice for March invoice",
            body="Hi, I was charged twice for my March invoice. Can you refund the duplicate payment?",
            channel="web",
            created_at=datetime(2025, 1, 8, 10, 12, 7, tzinfo=timezone.utc),
            organization="8447346622462",
            tags=("billing", "vip"),
        ),
        idempotency_key="zendesk:ticket.created:5158",
        needs_fetch=False,
        requester=None,
    ),
    "ticket_created__event_subscription_minimal": InboundEvent(
        helpdesk="zendesk",
        event_type="ticket.created",
        ticket_id="35436",
        ticket=Ticket(channel="web", created_at=datetime(2024, 4, 17, 17, 18, 10, tzinfo=timezone.utc)),
        idempotency_key="zendesk:ticket.created:35436",
        needs_fetch=True,
    ),
    "ticket_created__trigger": InboundEvent(
        helpdesk="zendesk",
        event_type="ticket.created",
        ticket_id="35436",
        ticket=Ticket(
            subject="Cannot log in after password reset",
            body="I reset my password this morning and now the app says my account is locked.\n"
            "Please help, I have a demo at 3pm.",
            channel="web",
            created_at=datetime(2024, 4, 17, 17, 18, tzinfo=timezone.utc),
            organization="Acme Corp",
            tags=("login", "account_locked", "web_widget"),
        ),
        idempotency_key="zendesk:ticket.created:35436",
        needs_fetch=False,
        requester="priya@example.com",
    ),
    "ticket_created__trigger_minimal": InboundEvent(
        helpdesk="zendesk",
        event_type="ticket.created",
        ticket_id="35437",
        ticket=Ticket(),
        idempotency_key="zendesk:ticket.created:35437",
        needs_fetch=True,
    ),
    "ticket_created__trigger_suppressed": InboundEvent(
        helpdesk="zendesk",
        event_type="ticket.created",
        ticket_id="35438",
        ticket=Ticket(subject="Refund request", channel="email"),
        idempotency_key="zendesk:ticket.created:35438",
        needs_fetch=True,
        requester="sam@example.org",
    ),
    "ticket_status_changed__event_subscription": IgnoredEvent("zendesk", "ticket.status_changed"),
    "ticket_updated__trigger": IgnoredEvent("zendesk", "ticket.updated"),
    "user_created__event_subscription": IgnoredEvent("zendesk", "user.created"),
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
    """The fixture's file name says its event; supported ones parse to it, all others are ignored."""
    event_type = name.split("__")[0].replace("_", ".", 1)
    result = webhook.parse(load(name))
    assert result.event_type == event_type
    if event_type in webhook.SUPPORTED_EVENTS:
        assert isinstance(result, InboundEvent)
    else:
        assert isinstance(result, IgnoredEvent)


def test_every_expected_result_has_a_fixture():
    assert sorted(EXPECTED) == fixture_names()


def test_event_and_trigger_for_the_same_ticket_share_one_key():
    event = load("ticket_created__event_subscription_minimal")
    trigger = {"ticket_id": 35436, "subject": "s", "description": "d"}
    assert webhook.parse(event).idempotency_key == webhook.parse(trigger).idempotency_key


def test_the_recommended_trigger_body_is_json_and_parses_once_filled_in():
    body = json.loads(webhook.RECOMMENDED_TRIGGER_BODY)
    assert {"ticket_id", "subject", "description", "requester", "tags", "created_at", "organization",
            "channel"} <= set(body)
    filled = {**body, "ticket_id": "7", "subject": "Hi", "description": "Body", "requester": "a@b.c",
              "tags": "a b", "created_at": "2013-12-12T05:35Z", "organization": "Org", "channel": "Web Service"}
    event = webhook.parse(filled)
    assert event.ticket == Ticket(subject="Hi", body="Body", channel="api", organization="Org", tags=("a", "b"),
                                  created_at=datetime(2013, 12, 12, 5, 35, tzinfo=timezone.utc))


# --- malformed payloads -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([1, 2], "payload"),
        ("ticket", "payload"),
        ({}, "ticket_id"),
        ({"ticket_id": ""}, "ticket_id"),
        ({"ticket_id": "   "}, "ticket_id"),
        ({"ticket_id": "abc"}, "ticket_id"),
        ({"ticket_id": "12a"}, "ticket_id"),
        ({"ticket_id": "-5"}, "ticket_id"),
        ({"ticket_id": "0"}, "ticket_id"),
        ({"ticket_id": "١٢"}, "ticket_id"),
        ({"ticket_id": 1.5}, "ticket_id"),
        ({"ticket_id": True}, "ticket_id"),
        ({"ticket_id": [1]}, "ticket_id"),
        ({"ticket_id": {"id": 1}}, "ticket_id"),
        ({"ticket_id": 10**5000}, "ticket_id"),
        ({"ticket_id": "1", "organization": 10**5000}, "organization"),
        ({"ticket_id": "1", "subject": 5}, "subject"),
        ({"ticket_id": "1", "description": ["x"]}, "description"),
        ({"ticket_id": "1", "tags": 5}, "tags"),
        ({"ticket_id": "1", "tags": ["ok", 3]}, "tags[1]"),
        ({"ticket_id": "1", "requester": {"email": "x"}}, "requester"),
        ({"ticket_id": "1", "event": 3}, "event"),
        ({"type": "zen:event-type:ticket.created"}, "detail"),
        ({"type": "zen:event-type:ticket.created", "detail": []}, "detail"),
        ({"type": "zen:event-type:ticket.created", "detail": {}}, "detail.id"),
        ({"type": "zen:event-type:ticket.created", "detail": {"id": "x1"}}, "detail.id"),
        ({"type": "zen:event-type:ticket.created", "detail": {"id": "1", "via": "web"}}, "detail.via"),
        ({"type": "zen:event-type:ticket.created", "detail": {"id": "1", "tags": {"a": 1}}}, "detail.tags"),
        ({"type": "zen:event-type:ticket.created", "detail": {"id": "1", "subject": None, "description": 1}},
         "detail.description"),
    ],
)
def test_malformed_payload_names_the_field(payload, field):
    with pytest.raises(MalformedPayload) as caught:
        webhook.parse(payload)
    assert caught.value.detail.startswith(f"{field}:"), caught.value.detail


def test_ticket_id_is_normalised_to_digits():
    assert webhook.parse({"ticket_id": 42}).ticket_id == "42"
    assert webhook.parse({"ticket_id": " 042 "}).ticket_id == "42"


def test_event_ticket_id_falls_back_to_the_event_subject():
    payload = {"type": "zen:event-type:ticket.created", "subject": "zen:ticket:77", "detail": {"subject": "s"}}
    assert webhook.parse(payload).ticket_id == "77"


@pytest.mark.parametrize("created_at", ["yesterday", "", 12345, None, ["2024-01-01"], "2024-13-45T00:00Z"])
def test_unparsable_created_at_is_treated_as_missing(created_at):
    event = webhook.parse({"ticket_id": "1", "subject": "s", "description": "d", "created_at": created_at})
    assert event.ticket.created_at is None


def test_description_without_the_placeholder_header_is_kept_whole():
    assert webhook.strip_comment_header("Just the text\n-----") == "Just the text\n-----"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["type", "id", "detail", "subject", "ticket_id", "description", "tags", "requester",
                               "created_at", "organization", "channel", "event", "via", "organization_id"])
payloads = (
    json_values
    | st.dictionaries(field_names, json_values, max_size=8)
    | st.dictionaries(field_names, json_values, max_size=6).map(
        lambda detail: {"type": "zen:event-type:ticket.created", "id": "e1", "detail": detail})
)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_parse_returns_an_event_or_refuses_the_delivery(payload):
    try:
        result = webhook.parse(payload)
    except DeliveryRejected:
        return
    assert isinstance(result, (InboundEvent, IgnoredEvent))


# --- signatures -------------------------------------------------------------------------------

BODY = (FIXTURES / "ticket_created__trigger.json").read_bytes()


def verify(headers: dict[str, str], body: bytes = BODY, secret: str = SECRET, now: float | None = None) -> None:
    webhook.verify(headers, body, secret, now=time.time() if now is None else now, tolerance_seconds=TOLERANCE)


def test_valid_signature_passes():
    verify(zendesk_signed_headers(SECRET, BODY))


def test_signature_from_the_documentation_format():
    """Timestamp exactly as Zendesk sends it, checked at a fixed `now`."""
    stamp = "2021-10-26T20:45:15Z"
    now = datetime(2021, 10, 26, 20, 46, tzinfo=timezone.utc).timestamp()
    verify(zendesk_signed_headers(SECRET, BODY, timestamp=stamp), now=now)


def test_headers_are_found_whatever_their_case():
    headers = {name.lower(): value for name, value in zendesk_signed_headers(SECRET, BODY).items()}
    verify(headers)
    verify({name.upper(): value for name, value in headers.items()})


@pytest.mark.parametrize("dropped", [webhook.SIGNATURE_HEADER, webhook.TIMESTAMP_HEADER])
def test_missing_header_is_refused(dropped):
    headers = {k: v for k, v in zendesk_signed_headers(SECRET, BODY).items() if k != dropped}
    with pytest.raises(BadSignature, match=f"missing header.*{dropped}"):
        verify(headers)


def test_no_headers_at_all_names_both():
    with pytest.raises(BadSignature) as caught:
        verify({})
    assert webhook.SIGNATURE_HEADER in caught.value.detail and webhook.TIMESTAMP_HEADER in caught.value.detail


def test_wrong_secret_is_refused():
    with pytest.raises(BadSignature, match="does not match"):
        verify(zendesk_signed_headers("another-secret", BODY))


def test_tampered_body_is_refused():
    headers = zendesk_signed_headers(SECRET, BODY)
    with pytest.raises(BadSignature, match="does not match"):
        verify(headers, body=BODY.replace(b"35436", b"35439"))


def test_tampered_timestamp_is_refused():
    headers = zendesk_signed_headers(SECRET, BODY)
    headers[webhook.TIMESTAMP_HEADER] = zendesk_timestamp(time.time() - 5)
    with pytest.raises(BadSignature, match="does not match"):
        verify(headers)


@pytest.mark.parametrize(("offset", "word"), [(-TOLERANCE - 1, "old"), (TOLERANCE + 1, "future")])
def test_timestamp_outside_the_tolerance_is_refused(offset, word):
    with pytest.raises(BadSignature, match=word):
        verify(zendesk_signed_headers(SECRET, BODY, timestamp=time.time() + offset))


def test_timestamp_inside_the_tolerance_passes():
    verify(zendesk_signed_headers(SECRET, BODY, timestamp=time.time() - TOLERANCE + 30))


@pytest.mark.parametrize("stamp", ["1635281115", "yesterday", "2021-10-26 25:00"])
def test_unparsable_timestamp_is_refused(stamp):
    with pytest.raises(BadSignature, match="ISO 8601"):
        verify(zendesk_signed_headers(SECRET, BODY, timestamp=stamp))


def test_non_ascii_signature_is_refused_not_crashed():
    headers = zendesk_signed_headers(SECRET, BODY)
    headers[webhook.SIGNATURE_HEADER] = "sïgnature"
    with pytest.raises(BadSignature):
        verify(headers)


def test_empty_secret_refuses_everything():
    with pytest.raises(BadSignature, match="secret"):
        verify(zendesk_signed_headers("", BODY), secret="")
