"""Deliveries already classified and routed (state `routed` with a pending write-back): what the write-back
step and the benchmark start from, with no model involved."""
from __future__ import annotations

from sqlalchemy import update

from integrations.route import Route
from store.models import ROUTED, Delivery, TicketRecord, WriteBack
from store.types import utcnow


def routed_delivery(store, helpdesk: str, external_id: str, route: Route) -> int:
    with store.session() as session:
        ticket = TicketRecord(helpdesk=helpdesk, external_id=external_id, subject="s", body="b", tags=[])
        session.add(ticket)
        session.flush()
        delivery = Delivery(idempotency_key=f"{helpdesk}:ticket.created:{external_id}", helpdesk=helpdesk,
                            event_type="ticket.created", ticket_id=ticket.id, state=ROUTED, next_attempt_at=utcnow())
        session.add(delivery)
        session.flush()
        session.add(WriteBack(delivery_id=delivery.id, ticket_id=ticket.id, helpdesk=helpdesk, route=route.to_dict()))
        return delivery.id


def make_due(store) -> None:
    with store.session() as session:
        session.execute(update(Delivery).values(next_attempt_at=Delivery.received_at))


def write_back_pipeline(store, helpdesks: dict, max_attempts: int = 5):
    """A Pipeline for the write-back step only (no model is loaded: classification is already recorded)."""
    from config.routing import RoutingConfig
    from integrations.base import StoreReviewQueue
    from webhooks.pipeline import Pipeline, PipelineSettings

    settings = PipelineSettings(default_threshold=0.7, max_attempts=max_attempts, retry_base_seconds=2.0,
                                retry_max_seconds=600.0, lease_seconds=60.0)
    return Pipeline(store, None, RoutingConfig(), helpdesks, StoreReviewQueue(), settings)
