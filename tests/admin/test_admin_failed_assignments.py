"""Nothing that failed is hidden (issue 21): a ticket waiting for capacity whose assignment Zendesk refuses shows
among the failed items with its reason once the waiting queue gives up on it; Retry from the page puts it back in
the queue and the next round assigns it; Drop ends its wait for good; bulk takes `a<id>` keys; every action is
audited. Both stores, the real adapter (zenpy) against the fake Zendesk, over HTTP."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from admin_seed import ADMIN_TOKEN
from config.routing import AssignmentConfig, CategoryRoute, HelpdeskRoute, RoutingConfig
from failed_seed import zendesk_settings
from helpdesk_settings import helpdesk_settings
from integrations.registry import build_helpdesk
from integrations.route import build_route
from store import assignments
from store.models import Assignment, AuditEntry, TicketRecord
from store.types import utcnow
from webhooks.waiting import drain_waiting

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
GROUP, AGENT = 100, 8001


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        self.now += timedelta(milliseconds=1)
        return self.now


@pytest.fixture
def queue(store, fake_zendesk):
    """A full one-agent team, tickets waiting; then a slot opens and Zendesk refuses every assignment write."""
    fake_zendesk.add_agent(AGENT, "Full", [GROUP], open_tickets=10)
    settings = helpdesk_settings(store, zendesk=fake_zendesk, triage_assignment_reads_per_minute=6000)
    adapter = build_helpdesk("zendesk", settings, store, assignment=AssignmentConfig(max_open_per_agent=10))
    adapter.assigner.clock = clock = Clock()
    route = build_route("Refund", "zendesk", RoutingConfig(categories={"Refund": CategoryRoute(
        zendesk=HelpdeskRoute(group=GROUP, assignee="least_loaded"))}))

    class Queue:
        def apply(self, ticket: int, subject: str | None = None):
            fake_zendesk.add_ticket(ticket, subject=subject or f"Refund {ticket}")
            return adapter.apply(str(ticket), route)

        def drain(self) -> int:
            return drain_waiting(store, {"zendesk": adapter})

        def room(self, n: int):
            fake_zendesk.solve_for(AGENT, n)
            clock.now += timedelta(seconds=61)

    return Queue()


def refused(store, queue, fake_zendesk, ticket: int, subject: str | None = None) -> int:
    """Ticket `ticket` waits, a slot opens, and Zendesk refuses its assignment until the queue gives up."""
    assert queue.apply(ticket, subject)["assignment"]["waiting"]
    queue.room(1)
    fake_zendesk.fail(422, count=assignments.MAX_FAILURES, method="PUT")
    for _ in range(assignments.MAX_FAILURES):
        assert queue.drain() == 0
    with store.session() as session:
        row = session.scalar(select(Assignment).where(Assignment.external_id == str(ticket)))
        assert row.state == "failed"
        return row.id


def row_of(store, assignment_id: int) -> Assignment:
    with store.session() as session:
        row = session.get(Assignment, assignment_id)
        session.expunge(row)
        return row


def failed_row(page: str, key: str) -> str | None:
    if f'id="failed-{key}"' not in page:
        return None
    return page.split(f'id="failed-{key}"', 1)[1].split("</tr>", 1)[0]


def test_a_refused_assignment_is_listed_retried_from_the_page_and_assigned_by_the_next_round(
        make_app, store, fake_zendesk, queue):
    with store.session() as session:  # a ticket triage stored: its subject shows on the row
        session.add(TicketRecord(helpdesk="zendesk", external_id="501", subject="Refund for a broken kettle"))
    item = refused(store, queue, fake_zendesk, 501)
    app = make_app(triage_admin_token=ADMIN_TOKEN, **zendesk_settings(fake_zendesk))
    client = app.test_client()
    page = client.get("/admin", headers=BEARER).get_data(as_text=True)
    row = failed_row(page, f"a{item}")
    assert row is not None, "the refused assignment is not among the failed items"
    assert "assignment" in row and "Rejected" in row and "zendesk #501" in row and "broken kettle" in row
    assert "Refund" in row and "assign" in row
    assert f"/admin/assignments/{item}/retry" in row and f"/admin/assignments/{item}/drop" in row
    only = client.get("/admin?failed.kind=assignment&failed.q=kettle", headers=BEARER).get_data(as_text=True)
    assert failed_row(only, f"a{item}") is not None
    other = client.get("/admin?failed.kind=correction", headers=BEARER).get_data(as_text=True)
    assert failed_row(other, f"a{item}") is None

    assert client.post("/admin/assignments/999999/retry", headers=BEARER).status_code == 404
    done = client.post(f"/admin/assignments/{item}/retry", headers=BEARER)
    assert done.status_code == 200 and done.get_json() == {"status": "retried", "assignment_id": item}
    retried = row_of(store, item)
    assert (retried.state, retried.failures, retried.last_error) == ("waiting", 0, None)
    again = client.post(f"/admin/assignments/{item}/retry", headers=BEARER)
    assert again.status_code == 409 and again.get_json()["error"] == "not_failed"
    page = client.get("/admin", headers=BEARER).get_data(as_text=True)
    assert failed_row(page, f"a{item}") is None

    assert queue.drain() == 1  # the helpdesk takes it now
    assert row_of(store, item).state == "assigned"
    assert fake_zendesk.tickets[501]["assignee_id"] == AGENT
    with store.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.target == f"assignment:{item}"))
        assert entry.action == "retry" and entry.before["state"] == "failed" and entry.after == {"state": "waiting"}


def test_drop_ends_the_wait_and_bulk_takes_assignment_keys(make_app, store, fake_zendesk, queue):
    first = refused(store, queue, fake_zendesk, 601)
    assert queue.apply(602)["assignment"]["agent"] == str(AGENT)  # the failed one does not hold the group back
    app = make_app(triage_admin_token=ADMIN_TOKEN, **zendesk_settings(fake_zendesk))
    client = app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    page = client.get("/admin").get_data(as_text=True)
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert failed_row(page, f"a{first}") is not None

    asked = client.post("/admin/failed/bulk", data={"csrf": csrf, "action": "drop", "scope": "selected",
                                                    "item": [f"a{first}"]})
    assert asked.status_code == 200 and f"assignment {first}" in asked.get_data(as_text=True)
    assert row_of(store, first).state == "failed"  # only the confirmation acts
    done = client.post("/admin/failed/bulk", data={"csrf": csrf, "action": "drop", "scope": "selected",
                                                   "item": [f"a{first}"], "confirm": "1"})
    assert done.status_code == 303
    assert row_of(store, first).state == "dropped"
    with store.session() as session:
        assert [row.external_id for row in assignments.waiting(session, "zendesk")] == []
        assert session.scalar(select(AuditEntry).where(AuditEntry.target == f"assignment:{first}")).action == "drop"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert failed_row(page, f"a{first}") is None and "Dropped 1 failed item" in page
    dropped = client.get("/admin?failed.state=dropped").get_data(as_text=True)
    assert failed_row(dropped, f"a{first}") is not None
    assert queue.drain() == 0 and fake_zendesk.tickets[601]["assignee_id"] is None  # nobody assigns it
    assert client.post(f"/admin/assignments/{first}/drop", headers=BEARER).status_code == 409

    second = refused(store, queue, fake_zendesk, 604)
    retried = client.post("/admin/failed/bulk", headers=BEARER, data={
        "action": "retry", "scope": "selected", "item": [f"a{second}", f"a{first}"], "confirm": "1"})
    assert retried.get_json() == {"status": "retried", "items": [f"a{second}"], "not_failed": [f"a{first}"]}
    assert row_of(store, second).state == "waiting" and row_of(store, first).state == "dropped"
    assert queue.drain() == 1 and fake_zendesk.tickets[604]["assignee_id"] == AGENT
