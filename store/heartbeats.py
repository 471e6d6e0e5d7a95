"""Worker heartbeats: a process that drains the inbox says so every few seconds, and forgets itself at exit."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import WorkerHeartbeat
from store.types import utcnow


def beat(session: Session, identity: str) -> None:
    """Portable upsert: update, else insert (a concurrent insert of the same identity cannot happen:
    the identity names one process)."""
    now = utcnow()
    if session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.identity == identity)
                       .values(seen_at=now)).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(WorkerHeartbeat(identity=identity, seen_at=now))
        except IntegrityError:
            pass


def forget(session: Session, identity: str) -> None:
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.identity == identity))


def newest(session: Session) -> datetime | None:
    return session.scalar(select(func.max(WorkerHeartbeat.seen_at)))


def any_alive(session: Session, within_seconds: float) -> bool:
    seen = newest(session)
    return seen is not None and seen >= utcnow() - timedelta(seconds=within_seconds)
