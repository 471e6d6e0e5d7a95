"""The clock's housekeeping: the retention purge and the retry of dead-lettered deliveries."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from store import inbox
from store.database import Store
from store.models import FAILED, Delivery, TicketRecord

log = logging.getLogger(__name__)
PERMANENT = "permanent:"  # the pipeline's prefix for errors no retry can fix (auth, not found, rejected)


def purge_texts(store: Store, retention_days: int, now: datetime) -> int:
    """Delete the subject and body of tickets received more than `retention_days` ago; labels, predictions,
    corrections and metrics stay. Returns how many tickets were purged."""
    cutoff = now - timedelta(days=retention_days)
    with store.session() as session:
        purged = session.execute(
            update(TicketRecord).where(TicketRecord.received_at < cutoff, TicketRecord.purged_at.is_(None))
            .values(subject=None, body=None, purged_at=now)).rowcount
    if purged:
        log.info("ticket texts purged", extra={"count": purged, "older_than_days": retention_days})
    return purged


def retry_dead_letters(store: Store, queue, max_age_hours: int, now: datetime) -> list[int]:
    """Requeue dead-lettered deliveries younger than `max_age_hours` whose error was not permanent."""
    with store.session() as session:
        ids = [d.id for d in session.scalars(select(Delivery).where(
            Delivery.state == FAILED, Delivery.received_at >= now - timedelta(hours=max_age_hours)))
            if not (d.last_error or "").startswith(PERMANENT)]
        requeued = inbox.retry(session, ids) if ids else []
    for delivery_id in requeued:
        queue.enqueue(delivery_id)
    if requeued:
        log.info("dead-lettered deliveries retried", extra={"count": len(requeued)})
    return requeued
