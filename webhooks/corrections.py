"""Writes pending correction routes (a reviewer's Slack click) to the helpdesk, durably.

A click records a `WriteBack(kind="correction", state="pending")`; this applies it through the same
adapter call as an auto-route (`adapter.apply(external_id, route)`). It runs right after the click (in
bolt's background thread) and on every clock sweep, so a helpdesk outage only delays it: a failure is
recorded, tried again with exponential backoff (a rate limit: after its `retry_after`, without counting
an attempt), and marked `failed` after `max_attempts` or a permanent error. A claim (pushing
`next_try_at` out by a lease) keeps the click's thread and the sweep from applying the same one at once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from integrations import outage
from integrations.errors import RateLimited
from integrations.route import Route
from store.database import Store
from store.models import TicketRecord, WriteBack
from store.types import utcnow
from telemetry import pipeline_metrics

log = logging.getLogger(__name__)
CORRECTION = "correction"


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
    """Apply due correction write-backs (or just `only_id`); returns how many reached the helpdesk."""
    with store.session() as session:
        query = select(WriteBack.id).where(WriteBack.kind == CORRECTION, WriteBack.state == "pending",
                                           WriteBack.next_try_at <= utcnow())
        if only_id is not None:
            query = query.where(WriteBack.id == only_id)
        due = list(session.scalars(query.order_by(WriteBack.next_try_at).limit(limit)))
    return sum(_apply_one(store, helpdesks, policy, write_back_id) for write_back_id in due)


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
        helpdesk, route = action.helpdesk, Route.from_dict(action.route)
    adapter = helpdesks[helpdesk]
    try:
        result = adapter.apply(external_id, route)
    except Exception as exc:
        pipeline_metrics.record_write_back_failure(helpdesk, "correction", exc)
        _record_failure(store, policy, write_back_id, exc)
        return False
    with store.session() as session:
        action = session.get(WriteBack, write_back_id)
        action.state, action.result, action.dry_run, action.done_at = "done", result, adapter.dry_run, utcnow()
        action.attempts += 1
    log.info("correction written", extra={"write_back_id": write_back_id, "helpdesk": helpdesk,
                                           "category": route.category})
    pipeline_metrics.record_write_back(helpdesk, "correction", adapter.dry_run)
    return True


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
