"""Ticket-updated deliveries that free capacity: a solved or reassigned ticket gets its agents counted again at
the next chance, and a waiting ticket a person assigned stops waiting; other updates stay ignored."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from integrations.inbound import IgnoredEvent, TicketRerouted
from integrations.ticket_updates import ticket_updated
from store.models import AgentLoad, Assignment
from store.types import utcnow
from webhook_app import post_freshdesk, post_zendesk


@pytest.mark.parametrize("body, status, assignee", [
    ({"status": "Solved"}, "Solved", None),
    ({"ticket_status": "Resolved"}, "Resolved", None),
    ({"status": "5"}, "5", None),
    ({"assignee": "7001"}, None, "7001"),
    ({"responder_id": 43000007001, "status": "Pending"}, None, "43000007001"),
])
def test_a_finished_status_or_an_assignee_makes_an_update_worth_reading(body, status, assignee):
    event = ticket_updated("zendesk", {"event": "ticket.updated", "ticket_id": "12", **body})
    assert isinstance(event, TicketRerouted)
    assert (event.status, event.assignee, event.group, event.category) == (status, assignee, None, None)


@pytest.mark.parametrize("body", [{"status": "Pending"}, {"status": "open"}, {"subject": "x"}])
def test_any_other_update_stays_ignored(body):
    assert ticket_updated("zendesk", {"event": "ticket.updated", "ticket_id": "12", **body}) == \
        IgnoredEvent("zendesk", "ticket.updated")


def seed(store, helpdesk: str, state: str, agent: str | None) -> None:
    now = utcnow()
    with store.session() as session:
        session.add_all([
            AgentLoad(helpdesk=helpdesk, agent_id="7001", name="Ana", open_count=10, counted_at=now, assigned_since=0),
            AgentLoad(helpdesk=helpdesk, agent_id="7002", name="Bo", open_count=3, counted_at=now, assigned_since=0),
            Assignment(helpdesk=helpdesk, external_id="12", group_id="100", rule="least_loaded", route={}, state=state,
                       agent_id=agent, waiting_since=now - timedelta(minutes=5) if state == "waiting" else None,
                       assigned_at=now if agent else None)])


def loads(store, helpdesk: str) -> dict:
    with store.session() as session:
        return {row.agent_id: row.counted_at for row in session.scalars(
            select(AgentLoad).where(AgentLoad.helpdesk == helpdesk))}


def state_of(store, helpdesk: str) -> str:
    with store.session() as session:
        return session.scalar(select(Assignment.state).where(Assignment.helpdesk == helpdesk))


def test_a_solved_ticket_has_its_agent_counted_again_at_once(app, client):
    store = app.extensions["triage"].store
    seed(store, "zendesk", "assigned", "7001")
    body = json.dumps({"event": "ticket.updated", "ticket_id": "12", "status": "solved"}).encode()
    response = post_zendesk(client, body)
    assert response.status_code == 200 and response.get_json() == {"correction": False, "capacity": True}
    counted = loads(store, "zendesk")
    assert counted["7001"] is None and counted["7002"] is not None  # only Ana is read again
    assert state_of(store, "zendesk") == "assigned"


def test_a_waiting_ticket_that_a_person_assigned_stops_waiting(app, client):
    store = app.extensions["triage"].store
    seed(store, "freshdesk", "waiting", None)
    body = json.dumps({"freshdesk_webhook": {"triggered_event": "{responder_id:{from:null,to:43000007002}}",
                                             "ticket_id": "12", "ticket_assignee_id": "7002"}}).encode()
    response = post_freshdesk(client, body)
    assert response.status_code == 200 and response.get_json()["capacity"] is True
    assert state_of(store, "freshdesk") == "taken"
    assert loads(store, "freshdesk")["7002"] is None  # Bo's count now includes it: read again


def test_a_solved_waiting_ticket_leaves_the_queue_closed(app, client):
    store = app.extensions["triage"].store
    seed(store, "zendesk", "waiting", None)
    post_zendesk(client, json.dumps({"event": "ticket.updated", "ticket_id": "12", "status": "Closed"}).encode())
    assert state_of(store, "zendesk") == "closed"


def test_an_update_about_a_ticket_we_never_assigned_changes_nothing(app, client):
    store = app.extensions["triage"].store
    response = post_zendesk(client, json.dumps({"event": "ticket.updated", "ticket_id": "99",
                                                "status": "solved"}).encode())
    assert response.status_code == 200 and response.get_json() == {"correction": False, "capacity": False}
    assert loads(store, "zendesk") == {}


def test_an_assignee_nobody_knows_frees_nothing(app, client):
    store = app.extensions["triage"].store
    seed(store, "zendesk", "assigned", "7001")
    for assignee in ("9999", "x" * 10_000):  # an agent we never read, and a hostile value (cut at the boundary)
        response = post_zendesk(client, json.dumps({"event": "ticket.updated", "ticket_id": "77",
                                                    "assignee": assignee}).encode())
        assert response.status_code == 200 and response.get_json() == {"correction": False, "capacity": False}
    assert all(counted is not None for counted in loads(store, "zendesk").values())
