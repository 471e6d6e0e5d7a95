"""Signed Zendesk and Freshdesk deliveries carrying hostile text or impossible dates: 202, and the same row
on SQLite and PostgreSQL (the normalisation is documented in tests/store/test_text_boundary.py)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from store.models import Delivery, TicketRecord
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

HIGH, LOW = "\ud800", "\udc00"
ASTRAL = "🔥 👩‍👩‍👧 𝔘𝔫𝔦 🀄 😀"

# One flat body that both the Zendesk trigger and the Freshdesk custom shape read the same way.
HOSTILE = {
    "event": "ticket.created",
    "ticket_id": "4242",
    "subject": f"Printer\x00 on fire {HIGH} {LOW} {ASTRAL}",
    "description": f"It smokes\x00{LOW}{HIGH} {ASTRAL}",
    "requester": HIGH + "r" * 10_000,
    "organization": "Acme\x00" + LOW + "o" * 10_000,
    "channel": LOW + "w" * 5_000,
    "tags": ["vip\x00", "🔥hot", HIGH + "odd", "a" + LOW + "b"],
}
STORED = {
    "subject": f"Printer on fire \ufffd \ufffd {ASTRAL}",
    "body": f"It smokes\ufffd\ufffd {ASTRAL}",
    "requester": "\ufffd" + "r" * 319,
    "organization": "Acme\ufffd" + "o" * 250,
    "channel": "\ufffd" + "w" * 63,
    "tags": ["vip", "🔥hot", "\ufffdodd", "a\ufffdb"],
    "ticket_created_at": None,
}
IMPOSSIBLE_DATES = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59.999999-14:00",
                    "1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "0001-01-01", "December 31, 9999"]


def post(client, helpdesk: str, payload: dict):
    body = json.dumps(payload).encode()  # ensure_ascii: lone surrogates and pairs travel as \\uXXXX escapes
    if helpdesk == "zendesk":
        headers = zendesk_signed_headers(ZENDESK_SECRET, body)
    else:
        headers = freshdesk_headers(FRESHDESK_SECRET)
    return client.post(f"/webhooks/{helpdesk}", data=body, headers={"Content-Type": "application/json", **headers})


def stored_ticket(app) -> dict:
    with app.extensions["triage"].store.session() as session:
        ticket = session.scalar(select(TicketRecord))
        assert session.scalar(select(Delivery.ticket_id)) == ticket.id
        return {name: getattr(ticket, name) for name in STORED}


@pytest.fixture
def client_app(make_app):
    app = make_app()
    return app.test_client(), app


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("created_at", [None, *IMPOSSIBLE_DATES])
def test_a_hostile_delivery_is_accepted_and_stored_normalised(client_app, helpdesk, created_at):
    client, app = client_app
    payload = HOSTILE if created_at is None else {**HOSTILE, "created_at": created_at}
    response = post(client, helpdesk, payload)
    assert response.status_code == 202, response.get_json()
    assert stored_ticket(app) == STORED
    assert post(client, helpdesk, payload).get_json()["duplicate"] is True


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("field", ["subject", "description", "organization", "requester", "channel"])
@pytest.mark.parametrize("hostile", ["\x00", HIGH, LOW, LOW + HIGH])
def test_one_hostile_character_in_any_field_is_accepted(client_app, helpdesk, field, hostile):
    client, app = client_app
    payload = {"ticket_id": "7", "subject": "Printer", "description": "It smokes", field: f"x{hostile}y"}
    response = post(client, helpdesk, payload)
    assert response.status_code == 202, response.get_json()
    column = "body" if field == "description" else field
    expected = "xy" if hostile == "\x00" else "x" + "\ufffd" * len(hostile) + "y"
    assert stored_ticket(app)[column] == expected


def test_a_sane_date_keeps_its_instant(client_app):
    client, app = client_app
    response = post(client, "zendesk", {**HOSTILE, "created_at": "2024-04-17T17:18:00-05:00"})
    assert response.status_code == 202
    assert stored_ticket(app)["ticket_created_at"].isoformat() == "2024-04-17T22:18:00+00:00"
