"""An agent's re-routing in the helpdesk is a correction: a signed ticket-updated delivery naming another
group (or category field value) than the one we set records who, when, from and to, once."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from store.models import Correction, TicketRecord
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

ROUTING = """
[categories.REFUNDS]
zendesk = { group = 111 }
[categories.PAYMENT]
zendesk = { group = 222 }
freshdesk = { field = { name = "cf_category", value = "Payment" } }
"""


@pytest.fixture
def app(make_app, tmp_path):
    (tmp_path / "routing.toml").write_text(ROUTING)
    return make_app(triage_routing_file=tmp_path / "routing.toml")


def post(client, helpdesk: str, payload: dict):
    body = json.dumps(payload).encode()
    signed = zendesk_signed_headers(ZENDESK_SECRET, body) if helpdesk == "zendesk" else freshdesk_headers(FRESHDESK_SECRET)
    return client.post(f"/webhooks/{helpdesk}", data=body, headers={"Content-Type": "application/json", **signed})


def test_a_group_change_by_an_agent_is_recorded_once_as_a_correction(app):
    client, runtime = app.test_client(), app.extensions["triage"]
    created = post(client, "zendesk", {"event": "ticket.created", "ticket_id": "77", "subject": "Refund please",
                                       "description": "I want a refund for my order, give me my money back"})
    assert created.status_code == 202
    runtime.pipeline.process(created.get_json()["delivery_id"], "w1")
    update = {"event": "ticket.updated", "ticket_id": "77", "group": "222", "updated_by": "agent@example.com"}
    first, again = post(client, "zendesk", update), post(client, "zendesk", update)
    assert (first.status_code, first.get_json(), again.get_json()) == (200, {"correction": True}, {"correction": False})
    with runtime.store.session() as session:
        correction = session.scalar(select(Correction))
        ticket = session.scalar(select(TicketRecord))
        assert (correction.source, correction.user, correction.to_category) == ("helpdesk", "agent@example.com",
                                                                                 "PAYMENT")
        assert correction.from_category and correction.from_category != "PAYMENT" and correction.created_at
        assert (ticket.label, ticket.label_source) == ("PAYMENT", "helpdesk")


def test_updates_without_a_group_stay_ignored_and_unknown_tickets_change_nothing(app):
    client = app.test_client()
    assert post(client, "freshdesk", {"event": "ticket.updated", "ticket_id": "5", "subject": "x"}).get_json() == \
        {"ignored": "ticket.updated"}
    answer = post(client, "freshdesk", {"event": "ticket.updated", "ticket_id": "5", "category": "Payment"})
    assert (answer.status_code, answer.get_json()) == (200, {"correction": False})
    with app.extensions["triage"].store.session() as session:
        assert session.scalar(select(Correction)) is None
