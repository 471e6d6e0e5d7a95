"""The webhook's write (issue 18): one statement on PostgreSQL, committed when it returns, with every
guarantee of the intake kept: one row per key, the same id for a duplicate, even when they race, and a
duplicate leaves the ticket as it was. Both databases."""
from __future__ import annotations

import threading

from sqlalchemy import event as sqlalchemy_event, func, select

from classifier.ticket import Ticket
from integrations.inbound import InboundEvent
from store import inbox
from store.models import RECEIVED, Delivery, TicketRecord


def delivery(ticket_id: str = "501", subject: str = "Printer on fire", body: str = "It smokes",
             organization: str | None = "Acme", tags: tuple = ("vip",)) -> InboundEvent:
    return InboundEvent.ticket_created("zendesk", ticket_id, Ticket(subject=subject, body=body,
                                                                    organization=organization, tags=tags),
                                       requester="a@example.com")


def statements_of(store, record) -> list[str]:
    """What `record(connection)` sends through `Store.autocommit`, statement by statement."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_rest):
        sent.append(statement.split()[0])

    sqlalchemy_event.listen(store.engine, "before_cursor_execute", note)
    try:
        with store.autocommit() as connection:
            record(connection)
    finally:
        sqlalchemy_event.remove(store.engine, "before_cursor_execute", note)
    return sent


def test_a_delivery_is_one_statement_on_postgresql(store):
    first = statements_of(store, lambda connection: inbox.record_delivery(connection, delivery(), "req-1"))
    again = statements_of(store, lambda connection: inbox.record_delivery(connection, delivery(), "req-2"))
    if store.engine.dialect.name == "postgresql":
        assert (first, again) == (["WITH"], ["WITH"])  # ticket upsert and delivery insert in one
    else:  # SQLite: the upsert, then the insert (or, for a known key, the stored id), under one BEGIN IMMEDIATE
        assert (first, again) == (["BEGIN", "INSERT", "INSERT"], ["BEGIN", "INSERT", "SELECT"])


def test_the_delivery_is_committed_when_it_is_recorded(store):
    with store.autocommit() as connection:
        delivery_id, new = inbox.record_delivery(connection, delivery(), "req-1")
        if store.engine.dialect.name == "postgresql":  # autocommit: seen by others before the context ends
            with store.session() as other:
                assert other.get(Delivery, delivery_id) is not None
    with store.session() as session:
        stored = session.get(Delivery, delivery_id)
        ticket = session.get(TicketRecord, stored.ticket_id)
        assert new and (stored.state, stored.request_id, stored.attempts) == (RECEIVED, "req-1", 0)
        assert stored.needs_fetch is False
        assert stored.idempotency_key == "zendesk:ticket.created:501" and stored.next_attempt_at is not None
        assert (ticket.subject, ticket.body, ticket.organization, ticket.tags, ticket.requester) == (
            "Printer on fire", "It smokes", "Acme", ["vip"], "a@example.com")


def test_a_duplicate_answers_the_same_id_and_leaves_the_ticket_as_it_was(store):
    with store.autocommit() as connection:
        first = inbox.record_delivery(connection, delivery(), "req-1")
    with store.autocommit() as connection:
        again = inbox.record_delivery(connection, delivery(subject="Edited later", organization="Other"), "req-2")
    assert again == (first[0], False)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        ticket = session.scalar(select(TicketRecord))
        assert (ticket.subject, ticket.organization) == ("Printer on fire", "Acme")
        assert session.get(Delivery, first[0]).request_id == "req-1"


def test_a_known_ticket_keeps_what_the_delivery_leaves_empty(store):
    """A ticket already stored (a backfill, or an agent's update) gets the fields this delivery carries."""
    with store.session() as session:
        session.add(TicketRecord(helpdesk="zendesk", external_id="501", subject="old subject", body="old body",
                                 organization="Acme", tier="gold", tags=["old"]))
    with store.autocommit() as connection:
        delivery_id, new = inbox.record_delivery(connection, delivery(subject="new subject", body="", organization=None,
                                                                      tags=()))
    with store.session() as session:
        ticket = session.scalar(select(TicketRecord))
        assert new and session.get(Delivery, delivery_id).ticket_id == ticket.id
        assert (ticket.subject, ticket.body, ticket.organization, ticket.tier, ticket.tags, ticket.requester) == (
            "new subject", "old body", "Acme", "gold", ["old"], "a@example.com")


def test_racing_duplicates_store_one_row_and_all_answer_its_id(store):
    racers = 8
    start, results, errors = threading.Barrier(racers), [], []

    def deliver(n: int):
        try:
            start.wait(10)
            with store.autocommit() as connection:
                results.append(inbox.record_delivery(connection, delivery("777"), f"req-{n}"))
        except Exception as exc:  # recorded, then asserted empty
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(results) == racers and len({delivery_id for delivery_id, _ in results}) == 1
    assert sum(new for _, new in results) == 1
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        assert session.scalar(select(func.count()).select_from(TicketRecord)) == 1
