"""`GET /metrics`: tickets waiting for capacity (assignment by load, issue 19), per helpdesk, read from the store
at scrape time: how many, and how long the oldest has waited; 0, not a missing series, once none waits."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from metrics_text import samples, value
from store.assignments import ASSIGNED, WAITING
from store.models import Assignment
from store.types import utcnow


def _scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return samples(response.get_data(as_text=True))


def test_tickets_waiting_for_capacity_and_the_oldest_wait(make_app, store):
    client = make_app().test_client()
    empty = _scrape(client)
    for helpdesk in ("zendesk", "freshdesk"):
        assert ("triage_tickets_waiting_for_capacity", (("helpdesk", helpdesk),)) in empty
        assert value(empty, "triage_oldest_capacity_wait_seconds", helpdesk=helpdesk) == 0

    now = utcnow()
    with store.session() as session:
        for n, (helpdesk, minutes, state) in enumerate([("zendesk", 30, WAITING), ("zendesk", 90, WAITING),
                                                        ("freshdesk", 10, WAITING), ("zendesk", 600, ASSIGNED)]):
            session.add(Assignment(helpdesk=helpdesk, external_id=str(n), group_id="5", rule="least_loaded", route={},
                                   state=state, waiting_since=now - timedelta(minutes=minutes)))
    scraped = _scrape(client)
    assert value(scraped, "triage_tickets_waiting_for_capacity", helpdesk="zendesk") == 2  # the assigned one is not
    assert value(scraped, "triage_tickets_waiting_for_capacity", helpdesk="freshdesk") == 1
    assert 90 * 60 <= value(scraped, "triage_oldest_capacity_wait_seconds", helpdesk="zendesk") < 91 * 60
    assert 10 * 60 <= value(scraped, "triage_oldest_capacity_wait_seconds", helpdesk="freshdesk") < 11 * 60

    with store.session() as session:  # someone had room: every waiting ticket assigned
        session.execute(update(Assignment).where(Assignment.state == WAITING).values(state=ASSIGNED))
    drained = _scrape(client)
    assert ("triage_tickets_waiting_for_capacity", (("helpdesk", "zendesk"),)) in drained
    assert value(drained, "triage_tickets_waiting_for_capacity", helpdesk="zendesk") == 0
    assert value(drained, "triage_oldest_capacity_wait_seconds", helpdesk="zendesk") == 0
