"""Failed items for the admin page's tests (issue 21): dead letters reached through the inbox's own calls, and failed
correction write-backs as `integrations.corrections` leaves them; plus the helpdesk settings for the fake Zendesk."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fake_zendesk import EMAIL, TOKEN
from store import inbox
from store.models import (FAILED, ROUTED, Correction, Delivery, PredictionRecord, ReviewMessage, TicketRecord,
                          WriteBack)
from store.types import utcnow


def zendesk_settings(fake_zendesk, **more) -> dict:
    return {"zendesk_api_url": fake_zendesk.url, "zendesk_email": EMAIL, "zendesk_api_token": TOKEN, **more}


def dead_lettered_route(store, external_id: str, category: str = "REFUND", helpdesk: str = "zendesk",
                        age: timedelta = timedelta(minutes=5), subject: str | None = None) -> int:
    """An automatically routed ticket whose route write failed for good: the worker's path (decided `auto`,
    route write-back recorded, delivery `routed`), then dead-lettered by `store.inbox` as a worker does."""
    received = utcnow() - age
    with store.session() as session:
        ticket = TicketRecord(helpdesk=helpdesk, external_id=external_id, subject=subject or f"ticket {external_id}",
                              body="b", received_at=received)
        session.add(ticket)
        session.flush()
        delivery = Delivery(idempotency_key=f"{helpdesk}:ticket.created:{external_id}", helpdesk=helpdesk,
                            event_type="ticket.created", ticket_id=ticket.id, state=ROUTED, received_at=received,
                            next_attempt_at=received)
        session.add(delivery)
        session.flush()
        session.add(PredictionRecord(delivery_id=delivery.id, ticket_id=ticket.id, model_version="v-seeded",
                                     category=category, confidence=0.93, decision="auto", threshold=0.7,
                                     probabilities={category: 0.93}, latency_ms=12.0, created_at=received))
        session.add(WriteBack(delivery_id=delivery.id, ticket_id=ticket.id, helpdesk=helpdesk, kind="route",
                              route={"category": category, "tags": ["triage_" + category.lower()]}, state="pending"))
        delivery_id = delivery.id
    with store.session() as session:
        assert inbox.claim(session, delivery_id, "worker-test", 60)
    with store.session() as session:
        assert inbox.dead_letter(session, delivery_id, "worker-test",
                                 f"permanent: Rejected: {helpdesk} answered 422 for {external_id}") == FAILED
    return delivery_id


def failed_correction(store, external_id: str, category: str = "BILLING", helpdesk: str = "zendesk",
                      age: timedelta = timedelta(minutes=5), error: str = "Conflict: zendesk answered 409") -> int:
    """A review someone resolved (Slack or this page) whose correction write-back ran out of attempts."""
    when = utcnow() - age
    with store.session() as session:
        ticket = TicketRecord(helpdesk=helpdesk, external_id=external_id, subject=f"ticket {external_id}", body="b",
                              received_at=when, label=category, label_source="slack")
        session.add(ticket)
        session.flush()
        session.add(ReviewMessage(ticket_id=ticket.id, state="resolved", resolved_by="admin", created_at=when,
                                  resolved_at=when))
        session.add(Correction(ticket_id=ticket.id, source="admin", user="admin", from_category="REFUND",
                               to_category=category, created_at=when))
        write = WriteBack(ticket_id=ticket.id, helpdesk=helpdesk, kind="correction", state="failed", attempts=5,
                          route={"category": category, "tags": ["triage_" + category.lower()]}, last_error=error,
                          created_at=when, next_try_at=when)
        session.add(write)
        session.flush()
        return write.id


def state_of(store, model, row_id: int) -> str:
    with store.session() as session:
        return session.scalar(select(model.state).where(model.id == row_id))
