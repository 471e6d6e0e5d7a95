"""Many tickets waiting for a person, for the paging tests and bench/admin_page.py: each one a ticket, its
delivery, the model's prediction (decision "review") and an open review message, oldest first by id.

Ticket `i` (0-based, oldest first): external id `5000 + i`, subject `Order {i} <word>` with a word that tells
it apart (`WORDS`), helpdesk Freshdesk for every fourth else Zendesk, the model's guess `CATEGORIES[i % 3]`,
posted to Slack when `i` is even, waiting since `minutes=count - i` before now.
"""
from __future__ import annotations

from datetime import timedelta

from store.models import DONE, Delivery, PredictionRecord, ReviewMessage, TicketRecord
from store.types import utcnow

LABELS = ("ACCOUNT", "CANCELLATION_FEE", "CONTACT", "DELIVERY", "FEEDBACK", "INVOICES", "NEWSLETTER", "ORDER",
          "PAYMENT", "REFUNDS", "SHIPPING")  # the bundled starter model's
CATEGORIES = ("REFUNDS", "SHIPPING", "PAYMENT")
WORDS = ("arrived broken", "never came", "charged twice", "wrong size", "lid cracked")
FIRST_ID = 5000
BATCH = 500


def external_id(i: int) -> str:
    return str(FIRST_ID + i)


def helpdesk_of(i: int) -> str:
    return "freshdesk" if i % 4 == 3 else "zendesk"


def seed_waiting_reviews(store, count: int, minutes_apart: int = 1) -> None:
    now = utcnow()
    for start in range(0, count, BATCH):
        with store.session() as session:
            numbers = range(start, min(count, start + BATCH))
            when = {i: now - timedelta(minutes=(count - i) * minutes_apart) for i in numbers}
            tickets = [TicketRecord(helpdesk=helpdesk_of(i), external_id=external_id(i),
                                    subject=f"Order {i} {WORDS[i % len(WORDS)]}", body=f"Ticket body {i}",
                                    language="en", received_at=when[i]) for i in numbers]
            session.add_all(tickets)
            session.flush()
            deliveries = [Delivery(idempotency_key=f"{t.helpdesk}:ticket.created:{t.external_id}", helpdesk=t.helpdesk,
                                   event_type="ticket.created", ticket_id=t.id, state=DONE, received_at=when[i],
                                   finished_at=when[i] + timedelta(seconds=1)) for i, t in zip(numbers, tickets)]
            session.add_all(deliveries)
            session.flush()
            for i, ticket, delivery in zip(numbers, tickets, deliveries):
                guess = CATEGORIES[i % len(CATEGORIES)]
                probabilities = {label: 0.02 for label in LABELS} | {guess: 0.44, "ORDER": 0.2, "CONTACT": 0.18}
                session.add(PredictionRecord(delivery_id=delivery.id, ticket_id=ticket.id, model_version="v-seeded",
                                             category=guess, confidence=0.44, probabilities=probabilities,
                                             decision="review", threshold=0.7, latency_ms=12.0, created_at=when[i]))
                session.add(ReviewMessage(ticket_id=ticket.id, delivery_id=delivery.id, created_at=when[i],
                                          channel="C-REVIEW" if i % 2 == 0 else None,
                                          ts=f"1700000000.{i:06d}" if i % 2 == 0 else None))


GROUPS = (("zendesk", "360001", "Billing team"), ("zendesk", "360002", "Returns"), ("freshdesk", "77", "Support"))


def seed_waiting_assignments(store, count: int) -> None:
    """`count` tickets waiting for capacity: ticket `i` has external id `8000 + i`, group `GROUPS[i % 3]`,
    category `CATEGORIES[i % 3]`, waiting since `count - i` minutes before now (oldest first)."""
    from store.assignments import WAITING
    from store.models import Assignment

    now = utcnow()
    with store.session() as session:
        for i in range(count):
            helpdesk, group_id, name = GROUPS[i % len(GROUPS)]
            session.add(Assignment(helpdesk=helpdesk, external_id=str(8000 + i), group_id=group_id, group_name=name,
                                   rule="least_loaded", category=CATEGORIES[i % len(CATEGORIES)], route={},
                                   state=WAITING, reason="everyone is at their cap",
                                   waiting_since=now - timedelta(minutes=count - i)))
