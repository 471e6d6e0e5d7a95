"""The durable inbox on SQLite and PostgreSQL: idempotent intake, leases, compare-and-set steps, dead letters."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from classifier.ticket import Ticket
from integrations.inbound import TICKET_CREATED, InboundEvent
from store import inbox
from store.models import CLASSIFIED, DONE, FAILED, RECEIVED, Delivery, TicketRecord
from store.types import utcnow


def event(ticket_id: str = "101", key: str | None = None, subject: str = "Printer on fire") -> InboundEvent:
    return InboundEvent(helpdesk="zendesk", event_type=TICKET_CREATED, ticket_id=ticket_id,
                        ticket=Ticket(subject=subject, body="It smokes", tags=("vip",)),
                        idempotency_key=key or f"zendesk:ticket.created:{ticket_id}", requester="a@example.com")


def test_same_delivery_is_stored_once(store):
    with store.session() as session:
        first, created = inbox.record_delivery(session, event())
    with store.session() as session:
        again, created_again = inbox.record_delivery(session, event())
        assert (created, created_again, again) == (True, False, first)
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        ticket = session.scalar(select(TicketRecord))
        assert (ticket.subject, ticket.tags, ticket.requester) == ("Printer on fire", ["vip"], "a@example.com")


def test_concurrent_duplicates_collapse_to_one(store):
    results, errors = [], []

    def deliver():
        try:
            with store.session() as session:
                results.append(inbox.record_delivery(session, event("202")))
        except Exception as exc:  # recorded, then asserted empty
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({delivery_id for delivery_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_only_one_owner_holds_the_lease_until_it_expires(store):
    with store.session() as session:
        delivery_id, _ = inbox.record_delivery(session, event())
    with store.session() as session:
        assert inbox.claim(session, delivery_id, "a", lease_seconds=60)
    with store.session() as session:
        assert not inbox.claim(session, delivery_id, "b", lease_seconds=60)
        assert inbox.due_ids(session, 10) == []
        session.execute(update(Delivery).values(lease_until=utcnow() - timedelta(seconds=1)))
    with store.session() as session:
        assert inbox.due_ids(session, 10) == [delivery_id]
        assert inbox.claim(session, delivery_id, "b", lease_seconds=60)


def test_a_step_moves_only_from_the_expected_state_under_the_own_lease(store):
    with store.session() as session:
        delivery_id, _ = inbox.record_delivery(session, event())
        inbox.claim(session, delivery_id, "a", 60)
    with store.session() as session:
        assert not inbox.advance(session, delivery_id, "b", RECEIVED, CLASSIFIED, 60)
        assert not inbox.advance(session, delivery_id, "a", CLASSIFIED, DONE, 60)
        assert inbox.advance(session, delivery_id, "a", RECEIVED, CLASSIFIED, 60)
        assert inbox.advance(session, delivery_id, "a", CLASSIFIED, DONE, 60)
    with store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert (delivery.state, delivery.lease_owner, delivery.finished_at is not None) == (DONE, None, True)
        assert not inbox.claim(session, delivery_id, "a", 60)


def test_failures_back_off_then_dead_letter_and_retry_resumes_the_step(store):
    with store.session() as session:
        delivery_id, _ = inbox.record_delivery(session, event())
    delays = []
    for attempt in range(3):
        with store.session() as session:
            session.execute(update(Delivery).values(next_attempt_at=utcnow()))
            assert inbox.claim(session, delivery_id, "w", 60)
            if attempt == 0:
                inbox.advance(session, delivery_id, "w", RECEIVED, CLASSIFIED, 60)
        with store.session() as session:
            before = utcnow()
            state = inbox.record_failure(session, delivery_id, "w", "HelpdeskDown: 503", max_attempts=3,
                                         base_seconds=2, max_seconds=600)
            delivery = session.get(Delivery, delivery_id)
            delays.append(round((delivery.next_attempt_at - before).total_seconds()))
    assert state == FAILED
    assert delays[:2] == [2, 4]
    with store.session() as session:
        failed = inbox.failed(session)
        assert [(d.id, d.failed_step, d.attempts, d.last_error) for d in failed] == \
            [(delivery_id, CLASSIFIED, 3, "HelpdeskDown: 503")]
        assert inbox.retry(session, [delivery_id]) == [delivery_id]
    with store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert (delivery.state, delivery.attempts) == (CLASSIFIED, 0)
        assert inbox.due_ids(session, 10) == [delivery_id]
        assert inbox.retry(session) == []


def test_upgrade_is_repeatable(store):
    store.upgrade()
    with store.session() as session:
        assert inbox.counts_by_state(session) == {}


def test_retry_of_an_id_no_row_can_have_retries_nothing(store):
    from store import inbox

    with store.session() as session:
        assert inbox.retry(session, [0, -1, 2**31, 10**30]) == []
