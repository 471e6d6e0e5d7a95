"""Store contents for the admin page's tests: a week of predictions, corrections, a failed delivery, a review."""
from __future__ import annotations

from datetime import timedelta

from store.models import (DONE, FAILED, AlertState, Correction, Delivery, DriftCheck, ModelVersion, PredictionRecord,
                          ReviewMessage, TicketRecord)
from store.types import utcnow

ADMIN_TOKEN = "admin-test-token-7f3a9c"
DRIFT_ALERT = "category mix shifted: PSI 0.31 over 0.2"
SECRET_SUBJECT = "Seeded subject that only an authorised admin may see"
# (days ago, category, decision, language, tier, corrected to)
PREDICTIONS = [
    (6, "REFUND", "auto", "en", "gold", None), (6, "SHIPPING", "auto", "en", "free", None),
    (5, "REFUND", "auto", "de", "gold", "SHIPPING"), (4, "SHIPPING", "review", "en", "free", "SHIPPING"),
    (3, "BILLING", "auto", "en", "gold", None), (3, "REFUND", "review", "fr", "free", "BILLING"),
    (2, "SHIPPING", "auto", "de", "free", None), (1, "REFUND", "auto", "en", "gold", None),
    (0, "BILLING", "review", "en", "free", None), (0, "REFUND", "auto", "en", "gold", None),
]


def seed(store) -> dict:
    """Returns the ids the tests look at."""
    now = utcnow()
    with store.session() as session:
        for n, (ago, category, decision, language, tier, corrected) in enumerate(PREDICTIONS):
            when = now - timedelta(days=ago, minutes=n)
            ticket = TicketRecord(helpdesk="zendesk", external_id=str(100 + n), subject=f"ticket {n}", body="body",
                                  language=language, tier=tier, received_at=when)
            session.add(ticket)
            session.flush()
            delivery = Delivery(idempotency_key=f"zendesk:ticket.created:{100 + n}", helpdesk="zendesk",
                                event_type="ticket.created", ticket_id=ticket.id, state=DONE, received_at=when,
                                request_id=f"req-{n}")
            session.add(delivery)
            session.flush()
            session.add(PredictionRecord(delivery_id=delivery.id, ticket_id=ticket.id, model_version="v-seeded",
                                         category=category, confidence=0.9 if decision == "auto" else 0.4,
                                         probabilities={category: 0.9}, decision=decision, threshold=0.7,
                                         created_at=when))
            if corrected:
                session.add(Correction(ticket_id=ticket.id, source="slack", user="U1", from_category=category,
                                       to_category=corrected, created_at=when + timedelta(minutes=5)))
        review_ticket = TicketRecord(helpdesk="freshdesk", external_id="777", subject=SECRET_SUBJECT, body="x")
        failed_ticket = TicketRecord(helpdesk="zendesk", external_id="999", subject="broken one", body="y")
        session.add_all([review_ticket, failed_ticket])
        session.flush()
        session.add(ReviewMessage(ticket_id=review_ticket.id))
        failed = Delivery(idempotency_key="zendesk:ticket.created:999", helpdesk="zendesk",
                          event_type="ticket.created", ticket_id=failed_ticket.id, state=FAILED, failed_step="routed",
                          attempts=5, last_error="Unavailable: zendesk answered 503", request_id="req-failed")
        session.add(failed)
        for ago, psi in ((3, 0.04), (2, 0.09), (1, 0.31)):  # a daily drift check, shifting on the last day
            when = now - timedelta(days=ago)
            session.add(DriftCheck(checked_at=when, model_version="v-seeded", metric="psi_category", value=psi, n=400))
            session.add(DriftCheck(checked_at=when, model_version="v-seeded", metric="psi_length", value=psi / 3,
                                   n=400))
        session.add(DriftCheck(checked_at=now - timedelta(days=1), model_version="v-seeded", metric="accuracy",
                               segment="language:de", value=0.5, n=2))
        session.add(AlertState(key="psi:category", active=True, value=0.31, message=DRIFT_ALERT,
                               first_seen_at=now - timedelta(days=1)))
        session.add(ModelVersion(version="v-seeded", path="models/versions/v-seeded", status="current",
                                 metrics={"accuracy": 0.912, "macro_f1": 0.874, "ece": 0.031, "n": 1200},
                                 promoted_at=now))
        session.flush()
        return {"failed_id": failed.id}
