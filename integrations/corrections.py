"""Writes pending correction routes (a reviewer's Slack click) to the helpdesk, durably.

A click records a `WriteBack(kind="correction", state="pending")`; this applies it through the same
adapter call as an auto-route (`adapter.apply(external_id, route)`). It runs right after the click (in
bolt's background thread) and on every clock sweep, so a helpdesk outage only delays it: a failure is
recorded, tried again with exponential backoff (a rate limit: after its `retry_after`, without counting
an attempt), and marked `failed` after `max_attempts` or a permanent error. A claim (pushing
`next_try_at` out by a lease) keeps the click's thread and the sweep from applying the same one at once.

A `failed` write-back stays failed: nothing retries it on its own. The admin page lists it among the failed
items, where an operator retries it (`requeue`: pending again, attempts from zero, and written at once) or
drops it (`drop`: kept with its error, never written). The same holds for an automatic route whose write
failed after its delivery had finished (its delivery's retry no longer covers it); a route whose delivery is
still open or dead-lettered is the delivery's to write (`store.inbox`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from integrations import outage
from integrations.errors import RateLimited, failure_outcome
from integrations.route import Route
from store.database import Store
from store.models import DONE, Delivery, TicketRecord, WriteBack
from store.types import utcnow
from telemetry import pipeline_metrics

log = logging.getLogger(__name__)
CORRECTION = "correction"
PENDING, FAILED, DROPPED = "pending", "failed", "dropped"
MAX_ID = 2**31 - 1  # ids are INTEGER columns on PostgreSQL


class HelpdeskGone(Exception):
    """The write-back names a helpdesk this process has no adapter for (its credentials were removed)."""

    permanent = True


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 2.0
    max_seconds: float = 600.0
    lease_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings) -> "RetryPolicy":
        return cls(settings.triage_max_attempts, settings.triage_retry_base_seconds,
                   settings.triage_retry_max_seconds, settings.triage_lease_seconds)


def apply_pending_corrections(store: Store, helpdesks: dict, policy: RetryPolicy = RetryPolicy(),
                              only_id: int | None = None, limit: int = 50) -> int:
    """Apply due correction write-backs, and routes retried after their delivery finished (or just `only_id`);
    returns how many reached the helpdesk."""
    with store.session() as session:
        query = select(WriteBack.id).where(WriteBack.state == PENDING, WriteBack.next_try_at <= utcnow(),
                                           standalone())
        if only_id is not None:
            query = query.where(WriteBack.id == only_id)
        due = list(session.scalars(query.order_by(WriteBack.next_try_at).limit(limit)))
    return sum(_apply_one(store, helpdesks, policy, write_back_id) for write_back_id in due)


def apply_now(store: Store, helpdesks: dict, policy: RetryPolicy, write_back_ids: list[int]) -> int:
    """Write these pending write-backs now (an operator's retry), in order; returns how many were written.
    One that fails is recorded as any attempt is, and the sweep carries on with it."""
    return sum(_apply_one(store, helpdesks, policy, write_back_id) for write_back_id in write_back_ids)


def _apply_one(store: Store, helpdesks: dict, policy: RetryPolicy, write_back_id: int) -> bool:
    now = utcnow()
    with store.session() as session:
        claimed = session.execute(
            update(WriteBack).where(WriteBack.id == write_back_id, WriteBack.state == "pending",
                                    WriteBack.next_try_at <= now)
            .values(next_try_at=now + timedelta(seconds=policy.lease_seconds))
        ).rowcount == 1
        if not claimed:
            return False
        action = session.get(WriteBack, write_back_id)
        external_id = session.get(TicketRecord, action.ticket_id).external_id
        helpdesk, kind, route = action.helpdesk, action.kind, Route.from_dict(action.route)
    adapter = helpdesks.get(helpdesk)
    try:
        if adapter is None:
            raise HelpdeskGone(f"{helpdesk} is not configured in this process: nothing can write to it")
        result = adapter.apply(external_id, route)
    except Exception as exc:
        pipeline_metrics.record_write_back_failure(helpdesk, kind, failure_outcome(exc))
        _record_failure(store, policy, write_back_id, exc)
        return False
    with store.session() as session:
        action = session.get(WriteBack, write_back_id)
        action.state, action.result, action.dry_run, action.done_at = "done", result, adapter.dry_run, utcnow()
        action.attempts += 1
    log.info("correction written", extra={"write_back_id": write_back_id, "helpdesk": helpdesk,
                                           "category": route.category, "kind": kind})
    pipeline_metrics.record_write_back(helpdesk, kind, adapter.dry_run)
    return True


def standalone():
    """Write-backs this module writes: corrections, and routes whose delivery finished (a delivery still open
    or dead-lettered writes its own route when it runs again)."""
    unfinished = select(Delivery.id).where(Delivery.id == WriteBack.delivery_id, Delivery.state != DONE)
    return or_(WriteBack.kind == CORRECTION, ~unfinished.exists())


def requeue(session: Session, write_back_ids: list[int]) -> list[tuple[int, str | None, int]]:
    """Failed stand-alone write-backs become pending again, due now, attempts from zero (an operator's retry).
    Returns (id, the error it had, attempts it had) of each that was failed; the others are left alone."""
    requeued = []
    for row in _failed(session, write_back_ids):
        requeued.append((row.id, row.last_error, row.attempts))
        row.state, row.attempts, row.next_try_at, row.last_error = PENDING, 0, utcnow(), None
    return requeued


def drop(session: Session, write_back_ids: list[int]) -> list[int]:
    """Give up on failed stand-alone write-backs: `dropped`, kept with their error, never written."""
    rows = _failed(session, write_back_ids)
    for row in rows:
        row.state = DROPPED
    return [row.id for row in rows]


def _failed(session: Session, write_back_ids: list[int]) -> list[WriteBack]:
    wanted = [i for i in write_back_ids if 0 < i <= MAX_ID]
    if not wanted:
        return []
    return list(session.scalars(select(WriteBack).where(WriteBack.id.in_(wanted), WriteBack.state == FAILED,
                                                        standalone()).order_by(WriteBack.id).with_for_update()))


def _record_failure(store: Store, policy: RetryPolicy, write_back_id: int, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"
    with store.session() as session:
        action = session.get(WriteBack, write_back_id)
        action.last_error = error[:2000]
        if isinstance(exc, RateLimited):  # not a failure: later, without spending an attempt
            action.next_try_at = utcnow() + timedelta(seconds=exc.retry_after)
            return
        if outage.is_outage(exc):  # the helpdesk is down, not the correction at fault: later, no attempt spent
            action.next_try_at = utcnow() + timedelta(seconds=outage.retry_after(exc))
            return
        action.attempts += 1
        if action.attempts >= policy.max_attempts or getattr(exc, "permanent", False):
            action.state = "failed"
        else:
            delay = getattr(exc, "retry_after", None)
            if delay is None:
                delay = min(policy.max_seconds, policy.base_seconds * 2 ** (action.attempts - 1))
            action.next_try_at = utcnow() + timedelta(seconds=delay)
    log.warning("correction write failed", extra={"write_back_id": write_back_id, "error": error})


def sweep_corrections(runtime) -> int:
    """The clock's job: write every due correction (those whose first try after the click failed)."""
    written = apply_pending_corrections(runtime.store, runtime.pipeline.helpdesks,
                                        RetryPolicy.from_settings(runtime.settings))
    if written:
        log.info("sweep wrote corrections", extra={"count": written})
    return written
