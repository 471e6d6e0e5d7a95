"""The durable inbox: accepted deliveries, who is working on which, and what failed.

Workers claim a delivery with a lease (a conditional UPDATE, portable across SQLite and PostgreSQL) and
move it one recorded state at a time with compare-and-set, so a second worker, or a worker whose lease
ran out while it stalled, can never apply a step twice.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from integrations.inbound import InboundEvent
from store.models import DONE, FAILED, OPEN_STATES, RECEIVED, Delivery, TicketRecord
from store.types import utcnow

MAX_ID = 2**31 - 1  # ids are INTEGER columns on PostgreSQL


def record_delivery(session: Session, event: InboundEvent, request_id: str | None = None) -> tuple[int, bool]:
    """Store an accepted delivery once; return (delivery id, whether it is new)."""
    existing = _delivery_id_for(session, event.idempotency_key)
    if existing is not None:
        return existing, False
    try:
        with session.begin_nested():
            ticket_id = _upsert_ticket(session, event)
            delivery = Delivery(
                idempotency_key=event.idempotency_key,
                helpdesk=event.helpdesk,
                event_type=event.event_type,
                ticket_id=ticket_id,
                needs_fetch=event.needs_fetch,
                request_id=request_id,
                state=RECEIVED,
                next_attempt_at=utcnow(),
            )
            session.add(delivery)
            session.flush()
            return delivery.id, True
    except IntegrityError:  # the same delivery arrived concurrently and won the race
        existing = _delivery_id_for(session, event.idempotency_key)
        if existing is None:
            raise
        return existing, False


def _delivery_id_for(session: Session, key: str) -> int | None:
    return session.scalar(select(Delivery.id).where(Delivery.idempotency_key == key))


def _upsert_ticket(session: Session, event: InboundEvent) -> int:
    ticket = event.ticket
    record = session.scalar(
        select(TicketRecord).where(TicketRecord.helpdesk == event.helpdesk, TicketRecord.external_id == event.ticket_id)
    )
    if record is None:
        record = TicketRecord(helpdesk=event.helpdesk, external_id=event.ticket_id)
        session.add(record)
    record.subject = ticket.subject or record.subject
    record.body = ticket.body or record.body
    record.requester = event.requester or record.requester
    record.organization = ticket.organization or record.organization
    record.tier = ticket.tier or record.tier
    record.channel = ticket.channel or record.channel
    record.language = ticket.language or record.language
    record.tags = list(ticket.tags) or record.tags or []
    record.ticket_created_at = ticket.created_at or record.ticket_created_at
    session.flush()
    return record.id


def claim(session: Session, delivery_id: int, owner: str, lease_seconds: float) -> bool:
    """Take the lease on an open, due delivery; False if someone else holds it or it is not due."""
    now = utcnow()
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.state.in_(OPEN_STATES),
            Delivery.next_attempt_at <= now,
            (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now) | (Delivery.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
    )
    return result.rowcount == 1


def due_ids(session: Session, limit: int) -> list[int]:
    """Open deliveries whose next attempt is due and whose lease is free or expired, oldest first."""
    now = utcnow()
    return list(
        session.scalars(
            select(Delivery.id)
            .where(
                Delivery.state.in_(OPEN_STATES),
                Delivery.next_attempt_at <= now,
                (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now),
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        )
    )


def advance(session: Session, delivery_id: int, owner: str, from_state: str, to_state: str, lease_seconds: float) -> bool:
    """Compare-and-set one step; False (and nothing written) if the state or the lease moved meanwhile."""
    now = utcnow()
    values: dict = {"state": to_state, "lease_until": now + timedelta(seconds=lease_seconds), "updated_at": now}
    if to_state == DONE:
        values.update(finished_at=now, lease_owner=None, lease_until=None, last_error=None)
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == from_state, Delivery.lease_owner == owner)
        .values(**values)
    )
    return result.rowcount == 1


def record_failure(
    session: Session, delivery_id: int, owner: str, error: str, max_attempts: int, base_seconds: float, max_seconds: float,
    not_before_seconds: float | None = None,
) -> str:
    """Count a failed attempt: back off exponentially (and at least `not_before_seconds`, a 503's Retry-After),
    or dead-letter after `max_attempts`. Returns the new state."""
    delivery = _give_back(session, delivery_id, owner, error)
    if delivery is None:
        return "lost_lease"
    delivery.attempts += 1
    if delivery.attempts >= max_attempts:
        delivery.failed_step, delivery.state = delivery.state, FAILED
        return FAILED
    delay = max(min(max_seconds, base_seconds * 2 ** (delivery.attempts - 1)), not_before_seconds or 0.0)
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    return delivery.state


def defer(session: Session, delivery_id: int, owner: str, reason: str, retry_after: float) -> str:
    """Not now, and not a failure (a 429, our rate budget, an open circuit breaker): the next attempt is no
    earlier than `retry_after` (plus up to 20% jitter, so a deferred burst does not wake all at once), and
    `attempts` is not counted, so rate limits never dead-letter a delivery. Returns the state it stays in."""
    delivery = _give_back(session, delivery_id, owner, reason)
    if delivery is None:
        return "lost_lease"
    delay = max(0.0, retry_after) * (1.0 + random.uniform(0.0, 0.2))
    delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
    return delivery.state


def dead_letter(session: Session, delivery_id: int, owner: str, error: str) -> str:
    """A permanent error (auth failed, not found, rejected): dead-letter at once, keeping the step and the error."""
    delivery = _give_back(session, delivery_id, owner, error)
    if delivery is None:
        return "lost_lease"
    delivery.attempts += 1
    delivery.failed_step, delivery.state = delivery.state, FAILED
    return FAILED


def _give_back(session: Session, delivery_id: int, owner: str, error: str) -> Delivery | None:
    """Release our lease and note why; None if the lease is no longer ours (then nothing is written)."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.lease_owner != owner:
        return None
    delivery.last_error = error[:2000]
    delivery.lease_owner = None
    delivery.lease_until = None
    return delivery


def release(session: Session, delivery_id: int, owner: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def failed(session: Session) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.state == FAILED).order_by(Delivery.id)))


def retry(session: Session, delivery_ids: list[int] | None = None) -> list[int]:
    """Requeue dead-lettered deliveries (all of them with None) at the step where they stopped."""
    query = select(Delivery).where(Delivery.state == FAILED)
    if delivery_ids is not None:  # an id no row can have (the column is a 32-bit integer) matches nothing
        query = query.where(Delivery.id.in_([i for i in delivery_ids if 0 < i <= MAX_ID]))
    requeued = []
    for delivery in session.scalars(query.with_for_update()):
        delivery.state = delivery.failed_step or RECEIVED
        delivery.failed_step = None
        delivery.attempts = 0
        delivery.next_attempt_at = utcnow()
        requeued.append(delivery.id)
    return requeued


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {state: count for state, count in rows}


def oldest_open(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Delivery.received_at)).where(Delivery.state.in_(OPEN_STATES)))
