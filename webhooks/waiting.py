"""Tickets waiting for capacity get their agent, oldest first, as soon as someone in their group has room.

The clock runs `drain_waiting` every few seconds. Per group it first asks the assigner whether anyone has
room (which re-reads counts older than the refresh interval, or marked stale by a helpdesk event saying
a ticket was solved or reassigned), so a full team costs no ticket reads. Then it applies each waiting
ticket's stored route again through the adapter: the same `apply`, the same rules, the same choice as an
automatic route. A ticket a person took meanwhile is skipped (and its wait ends); a rate limit or an outage
stops this round for that helpdesk, and the tickets wait for the next. Any other refusal is recorded on the
ticket (`assignments.record_failure`): after `MAX_FAILURES` in a row it is `failed`, leaves the queue and shows
among the admin page's failed items with its reason, until an operator retries or drops it.
"""
from __future__ import annotations

import logging

from integrations import outage
from integrations.errors import HelpdeskError, NotFound, RateLimited
from integrations.route import Route
from store import assignments
from store.database import Store

log = logging.getLogger(__name__)
DRAIN_SECONDS = 10  # how often the clock looks (the refresh interval bounds how stale a count may be)


def drain_waiting(store: Store, helpdesks: dict, limit: int = 100) -> int:
    """Assign what can be assigned now; returns how many waiting tickets got an agent."""
    assigned = 0
    for key, adapter in helpdesks.items():
        assigner = getattr(adapter, "assigner", None)
        if assigner is None or getattr(adapter, "dry_run", False):
            continue
        with store.session() as session:
            rows = [(row.external_id, row.group_id, row.group_name, row.route, row.failures)
                    for row in assignments.waiting(session, key, limit)]
        full: set[str] = set()
        for external_id, group_id, group_name, route, failures in rows:
            if group_id in full:
                continue
            try:
                if not assigner.has_room(group_id, group_name):
                    full.add(group_id)
                    continue
                result = adapter.apply(external_id, Route.from_dict(route))
            except (RateLimited, HelpdeskError) as exc:
                level = logging.INFO if isinstance(exc, RateLimited) or outage.is_outage(exc) else logging.WARNING
                log.log(level, "waiting tickets wait on", extra={"helpdesk": key, "ticket": external_id,
                                                                 "error": f"{type(exc).__name__}: {exc}"})
                if isinstance(exc, RateLimited) or outage.is_outage(exc):
                    break  # the helpdesk asks us to slow down or is down: the next round tries again
                if isinstance(exc, NotFound):  # the ticket was deleted: nothing left to assign
                    assigner.release(external_id, closed=True)
                else:
                    _failed(store, key, external_id, exc)
                continue
            if failures:
                with store.session() as session:
                    assignments.clear_failure(session, key, external_id)
            choice = result.get("assignment") or {}
            if choice.get("agent"):
                assigned += 1
            elif choice.get("waiting"):
                full.add(group_id)
    if assigned:
        log.info("waiting tickets assigned", extra={"count": assigned})
    return assigned


def _failed(store: Store, helpdesk: str, external_id: str, exc: HelpdeskError) -> None:
    """The helpdesk refused the assignment: record why, so it is never only a log line."""
    with store.session() as session:
        state = assignments.record_failure(session, helpdesk, external_id, f"{type(exc).__name__}: {exc}")
    if state == assignments.FAILED:
        log.warning("waiting ticket failed: no more automatic tries", extra={
            "helpdesk": helpdesk, "ticket": external_id, "failures": assignments.MAX_FAILURES})


def sweep_waiting(runtime) -> int:
    """The clock's job."""
    return drain_waiting(runtime.store, runtime.pipeline.helpdesks)
