"""Child-process tasks for tests: like webhooks.isolation's, but a delivery whose subject holds HANG never
finishes (after the batch claimed its deliveries, as a pathological ticket would stall the model)."""
from __future__ import annotations

import time

from sqlalchemy import select

from store import inbox
from store.models import Delivery, TicketRecord
from webhooks import isolation


def _hangs(delivery_ids: list[int]) -> bool:
    runtime = isolation._child["runtime"]
    with runtime.store.session() as session:
        subjects = session.scalars(select(TicketRecord.subject).join(Delivery, Delivery.ticket_id == TicketRecord.id)
                                   .where(Delivery.id.in_(delivery_ids))).all()
    return any("HANG" in (subject or "") for subject in subjects)


def batch_task(delivery_ids: list[int], owner: str, more: int) -> dict[int, str]:
    if _hangs(delivery_ids):
        runtime = isolation._child["runtime"]
        with runtime.store.session() as session:  # the batch holds its leases, then stalls
            inbox.claim_many(session, delivery_ids, owner, runtime.settings.triage_lease_seconds, more)
        time.sleep(3600)
    return isolation._batch_in_child(delivery_ids, owner, more)


def single_task(delivery_id: int, owner: str) -> str:
    if _hangs([delivery_id]):
        time.sleep(3600)
    return isolation._process_in_child(delivery_id, owner)
