"""The audit trail: who did what, when, and what it changed, written in the same transaction as the change.

Recording inside the caller's session means an action and its entry commit or roll back together: the trail
never names a change that did not happen, and no change escapes it. `before` and `after` hold only the fields
the action changed; callers never put a secret in them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from store.models import AuditEntry
from store.types import utcnow

# The action kinds; `triage audit --action` and the page filter take these names.
CORRECTION, LEAVE = "correction", "leave"  # a review routed, or left to the agents (page or Slack)
PROMOTE, ROLLBACK = "promote", "rollback"  # the model registry
AWAY, RETRY, DROP = "away", "retry", "drop"  # an agent's away mark (or back); a failed item retried or dropped
ACTIONS = (CORRECTION, LEAVE, PROMOTE, ROLLBACK, AWAY, RETRY, DROP)
ADMIN, SLACK, CLI = "admin", "slack", "cli"  # where an action came from


def record(session: Session, actor: str, action: str, target: str, before: dict | None, after: dict | None, *,
           source: str = ADMIN, at: datetime | None = None) -> None:
    """Add one entry to the caller's transaction (it commits with the change it describes)."""
    session.add(AuditEntry(at=at or utcnow(), actor=actor or "unknown", action=action, target=target,
                           before=before, after=after, source=source))


@dataclass(frozen=True)
class Filters:
    """What the trail is narrowed to: an actor, an action kind, entries newer than `since`."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None


def select_entries(filters: Filters = Filters()) -> Select:
    """Newest first (id breaks ties of the same instant); a select the page's pager counts and cuts."""
    query = select(AuditEntry)
    if filters.actor:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def entries(session: Session, filters: Filters = Filters(), limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    return list(session.scalars(select_entries(filters).limit(limit).offset(offset)))


def count(session: Session, filters: Filters = Filters()) -> int:
    return session.scalar(select(func.count()).select_from(select_entries(filters).order_by(None).subquery())) or 0


def latest(session: Session, target: str, actions: tuple[str, ...]) -> AuditEntry | None:
    """The newest entry of these kinds about `target` (e.g. who left a review to the agents, and from where)."""
    return session.scalars(select(AuditEntry).where(AuditEntry.target == target, AuditEntry.action.in_(actions))
                           .order_by(AuditEntry.id.desc()).limit(1)).first()


def actors(session: Session) -> list[str]:
    """Everyone the trail names, for the page's actor filter."""
    return list(session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    """One entry as JSON-ready data (`triage audit --json`, the page's bearer answer)."""
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "action": entry.action,
            "target": entry.target, "before": entry.before, "after": entry.after, "source": entry.source}
