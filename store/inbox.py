"""The durable inbox: accepted deliveries, who is working on which, and what failed.

Workers claim a delivery with a lease (a conditional UPDATE, portable across SQLite and PostgreSQL) and
move it one recorded state at a time with compare-and-set, so a second worker, or a worker whose lease
ran out while it stalled, can never apply a step twice.
"""
from __future__ import annotations

import functools
import random
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, false, func, select, true, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.inbound_event import InboundEvent
from store.models import DONE, FAILED, OPEN_STATES, RECEIVED, Delivery, TicketRecord, WriteBack
from store.types import utcnow

MAX_ID = 2**31 - 1  # ids are INTEGER columns on PostgreSQL
DROPPED = "dropped"  # a dead letter an operator gave up on: kept with its error, never retried


def record_delivery(db: Session | Connection, event: InboundEvent, request_id: str | None = None) -> tuple[int, bool]:
    """Store an accepted delivery once; return (delivery id, whether it is new).

    Round trips count here, since the webhook answers only after this (`webhooks.receivers`). On PostgreSQL
    one statement stores the ticket and the delivery, so on a connection in autocommit (`Store.autocommit`)
    it is a whole, durable transaction by itself; on SQLite (one writer at a time, under BEGIN IMMEDIATE)
    two. A known key changes nothing, the ticket included, and answers the stored id; two deliveries with
    one key at once store one row, and both answer its id (the later may also refresh the ticket's fields).
    """
    connection = _connection_of(db)
    ticket_row, delivery_row = _ticket_row(event), _delivery_row(event, request_id)
    carried = frozenset(name for name in _MERGED_FIELDS if ticket_row[f"t_{name}"])
    if connection.dialect.name == "postgresql":
        row = connection.execute(_one_statement(carried), {**ticket_row, **delivery_row}).first()
        found = (row[0], row[1]) if row is not None else None
    else:
        ticket_id = connection.execute(_upsert_ticket("sqlite", carried), {**ticket_row, **delivery_row}).scalar()
        found = None
        if ticket_id is not None:  # None: the key is known (the guard kept the ticket as it is)
            delivery_row["d_ticket_id"] = ticket_id
            delivery_id = connection.execute(_delivery_insert("sqlite"), delivery_row).scalar()
            found = (delivery_id, True) if delivery_id is not None else None
    if found is None:  # a known key, or the same delivery stored concurrently (the conflict did nothing)
        existing = connection.execute(_KNOWN_ID, {"d_idempotency_key": event.idempotency_key}).scalar()
        if existing is None:
            raise RuntimeError(f"delivery {event.idempotency_key!r} was neither stored nor found")
        return existing, False
    if isinstance(db, Session):  # a ticket this session holds is stale now: read it again when next used
        _expire_ticket(db, event)
    return int(found[0]), bool(found[1])


# The statements are built once per shape and run with parameters (t_* for the ticket, d_* for the delivery):
# building and cache-keying a fresh one per request cost more CPU than the round trip it saves.
_TICKETS, _DELIVERIES = TicketRecord.__table__, Delivery.__table__
# Ticket fields a later delivery of the same ticket overwrites only with a value (an empty one keeps the old).
_MERGED_FIELDS = ("subject", "body", "requester", "organization", "tier", "channel", "language", "tags",
                  "ticket_created_at")
_TICKET_COLUMNS = ("helpdesk", "external_id", *_MERGED_FIELDS, "received_at")
_DELIVERY_COLUMNS = ("idempotency_key", "helpdesk", "event_type", "needs_fetch", "request_id", "state", "attempts",
                     "next_attempt_at", "received_at", "updated_at")
_KNOWN_ID = select(_DELIVERIES.c.id).where(
    _DELIVERIES.c.idempotency_key == bindparam("d_idempotency_key", type_=_DELIVERIES.c.idempotency_key.type))
_DIALECT_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _connection_of(db: Session | Connection) -> Connection:
    if isinstance(db, Session):
        db.flush()  # what the session still holds goes first, as with the ORM
        return db.connection()
    return db


def _ticket_row(event: InboundEvent) -> dict:
    ticket = event.ticket
    return {"t_helpdesk": event.helpdesk, "t_external_id": event.ticket_id, "t_subject": ticket.subject or None,
            "t_body": ticket.body or None, "t_requester": event.requester or None,
            "t_organization": ticket.organization or None, "t_tier": ticket.tier or None,
            "t_channel": ticket.channel or None, "t_language": ticket.language or None,
            "t_tags": list(ticket.tags), "t_ticket_created_at": ticket.created_at or None, "t_received_at": utcnow()}


def _delivery_row(event: InboundEvent, request_id: str | None) -> dict:
    now = utcnow()
    return {"d_idempotency_key": event.idempotency_key, "d_helpdesk": event.helpdesk,
            "d_event_type": event.event_type, "d_needs_fetch": event.needs_fetch, "d_request_id": request_id,
            "d_state": RECEIVED, "d_attempts": 0, "d_next_attempt_at": now, "d_received_at": now, "d_updated_at": now}


def _parameter(table, prefix: str, name: str):
    return bindparam(f"{prefix}{name}", type_=table.c[name].type)


@functools.lru_cache(maxsize=128)
def _upsert_ticket(dialect: str, carried: frozenset[str]):
    """INSERT ... ON CONFLICT DO UPDATE ... RETURNING id of the delivery's ticket.

    Only the fields this delivery `carried` are overwritten. The update is guarded: while the delivery's key
    is stored, the ticket is left as it is and nothing is returned."""
    statement = _DIALECT_INSERTS[dialect](_TICKETS).values(
        {name: _parameter(_TICKETS, "t_", name) for name in _TICKET_COLUMNS})
    changes = {name: statement.excluded[name] for name in _MERGED_FIELDS if name in carried}
    return statement.on_conflict_do_update(
        index_elements=[_TICKETS.c.helpdesk, _TICKETS.c.external_id],
        set_=changes or {"helpdesk": statement.excluded.helpdesk},  # nothing new: still return the id
        where=~_KNOWN_ID.exists(),
    ).returning(_TICKETS.c.id)


@functools.lru_cache(maxsize=4)
def _delivery_insert(dialect: str, ticket=None):
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id; the ticket id is the parameter
    d_ticket_id, or the id the CTE `ticket` returns."""
    insert = _DIALECT_INSERTS[dialect](_DELIVERIES)
    if ticket is None:
        statement = insert.values({name: _parameter(_DELIVERIES, "d_", name)
                                   for name in (*_DELIVERY_COLUMNS, "ticket_id")})
    else:
        statement = insert.from_select([*_DELIVERY_COLUMNS, "ticket_id"],
                                       select(*[_parameter(_DELIVERIES, "d_", name) for name in _DELIVERY_COLUMNS],
                                              ticket.c.id))
    return statement.on_conflict_do_nothing(index_elements=[_DELIVERIES.c.idempotency_key]).returning(_DELIVERIES.c.id)


@functools.lru_cache(maxsize=128)
def _one_statement(carried: frozenset[str]):
    """PostgreSQL: the ticket upsert and the delivery insert as CTEs of one statement, which answers
    (id, true) for a new delivery, (id, false) for a known key, and no row when a concurrent transaction
    stored the key first (its row is not in this statement's snapshot)."""
    ticket = _upsert_ticket("postgresql", carried).cte("ticket")
    added = _delivery_insert("postgresql", ticket).cte("added")
    known = select(_DELIVERIES.c.id, false()).where(_KNOWN_ID.whereclause)
    return union_all(select(added.c.id, true()), known)


def _expire_ticket(session: Session, event: InboundEvent) -> None:
    for held in list(session.identity_map.values()):
        if isinstance(held, TicketRecord) and (held.helpdesk, held.external_id) == (event.helpdesk, event.ticket_id):
            session.expire(held)


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


def claim_many(session: Session, delivery_ids: list[int], owner: str, lease_seconds: float, more: int = 0) -> list:
    """Take the lease on each of `delivery_ids` that is open, due and free (or ours), and on up to `more`
    other due deliveries, oldest first, in one statement; returns the rows now held (id, state, request_id,
    helpdesk, received_at, needs_fetch, ticket_id: what a worker reads next), by id. On PostgreSQL rows
    another transaction is claiming are skipped, not waited for."""
    now = utcnow()
    claimable = (Delivery.state.in_(OPEN_STATES), Delivery.next_attempt_at <= now,
                 (Delivery.lease_until.is_(None)) | (Delivery.lease_until < now) | (Delivery.lease_owner == owner))
    wanted = Delivery.id.in_([i for i in delivery_ids if 0 < i <= MAX_ID])
    if more > 0:
        others = (select(Delivery.id).where(*claimable, ~wanted).order_by(Delivery.next_attempt_at, Delivery.id)
                  .limit(more).with_for_update(skip_locked=True))
        wanted = wanted | Delivery.id.in_(others.scalar_subquery())
    result = session.execute(
        update(Delivery).where(wanted, *claimable)
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
        .returning(Delivery.id, Delivery.state, Delivery.request_id, Delivery.helpdesk, Delivery.received_at,
                   Delivery.needs_fetch, Delivery.ticket_id)
    )
    return sorted(result.all(), key=lambda row: row.id)


def held_by(session: Session, owner: str) -> list[int]:
    """Open deliveries whose lease `owner` holds (what a batch had claimed when it was stopped)."""
    return list(session.scalars(select(Delivery.id).where(Delivery.lease_owner == owner,
                                                          Delivery.state.in_(OPEN_STATES)).order_by(Delivery.id)))


def next_due_at(session: Session) -> datetime | None:
    """When the next open delivery falls due: a retry's next attempt, or a held lease running out."""
    open_ = Delivery.state.in_(OPEN_STATES)
    lease_ends = session.scalar(select(func.min(Delivery.lease_until)).where(open_, Delivery.lease_until.is_not(None)))
    retry_at = session.scalar(select(func.min(Delivery.next_attempt_at)).where(open_, Delivery.lease_until.is_(None)))
    return min((t for t in (lease_ends, retry_at) if t is not None), default=None)


def advance_many(session: Session, delivery_ids: list[int], owner: str, from_state: str, to_state: str,
                 lease_seconds: float) -> list[int]:
    """`advance` for several deliveries in one statement; returns those that moved (the others' state or
    lease moved meanwhile: nothing may be written for them)."""
    if not delivery_ids:
        return []
    now = utcnow()
    values: dict = {"state": to_state, "lease_until": now + timedelta(seconds=lease_seconds), "updated_at": now}
    if to_state == DONE:
        values.update(finished_at=now, lease_owner=None, lease_until=None, last_error=None)
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.state == from_state, Delivery.lease_owner == owner)
        .values(**values)
        .returning(Delivery.id)
    )
    return sorted(result.scalars())


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
    return advance_many(session, [delivery_id], owner, from_state, to_state, lease_seconds) == [delivery_id]


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
        _mark_route(session, [delivery_id], ("pending",), FAILED)
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
    _mark_route(session, [delivery_id], ("pending",), FAILED)
    return FAILED


def _mark_route(session: Session, delivery_ids: list[int], from_states: tuple[str, ...], to_state: str) -> None:
    """The automatic route of these deliveries follows them: failed with a dead letter, pending again when it
    is requeued, dropped with it; so every count reads its real state from the write-back alone."""
    if delivery_ids:
        session.execute(update(WriteBack).where(WriteBack.delivery_id.in_(delivery_ids), WriteBack.kind == "route",
                                                WriteBack.state.in_(from_states)).values(state=to_state))


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
    _mark_route(session, requeued, (FAILED,), "pending")
    return requeued


def drop(session: Session, delivery_ids: list[int]) -> list[int]:
    """Give up on dead-lettered deliveries for good: `dropped`, kept with their error, never retried, out of
    the latency figures; their automatic route is marked dropped too. Returns those that were failed."""
    wanted = [i for i in delivery_ids if 0 < i <= MAX_ID]
    if not wanted:
        return []
    now = utcnow()
    dropped = sorted(session.scalars(
        update(Delivery).where(Delivery.id.in_(wanted), Delivery.state == FAILED)
        .values(state=DROPPED, finished_at=now, updated_at=now, lease_owner=None, lease_until=None)
        .returning(Delivery.id)))
    _mark_route(session, dropped, ("pending", FAILED), DROPPED)
    return dropped


def counts_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
    return {state: count for state, count in rows}


def oldest_open(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Delivery.received_at)).where(Delivery.state.in_(OPEN_STATES)))
