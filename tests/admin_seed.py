"""Store contents for the admin page's tests: a week of predictions, verdicts, write-backs, a failed and a stuck
delivery, a ticket waiting for review; and registry versions (copies of the bundled starter model)."""
from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from store.models import (DONE, FAILED, RECEIVED, AlertState, Correction, Delivery, DriftCheck, ModelVersion,
                          PredictionRecord, ReviewMessage, TicketRecord, WriteBack)
from store.types import utcnow

REPO = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "admin-test-token-7f3a9c"
DRIFT_ALERT = "category mix shifted: PSI 0.31 over 0.2"
SECRET_SUBJECT = "Seeded subject that only an authorised admin may see"
REVIEW_PROBABILITIES = {"BILLING": 0.41, "REFUND": 0.35, "SHIPPING": 0.24}
# (days ago, category, decision, language, tier, verdict: (source, category) or None)
PREDICTIONS = [
    (6, "REFUND", "auto", "en", "gold", None), (6, "SHIPPING", "auto", "en", "free", None),
    (5, "REFUND", "auto", None, "gold", ("helpdesk", "SHIPPING")),  # an agent re-routed it: wrong; language
    # only in its prediction's derived fields (detected): de
    (4, "SHIPPING", "review", "en", "free", ("slack", "SHIPPING")),  # a reviewer confirmed it: right
    (3, "BILLING", "auto", "en", "gold", None),
    (3, "REFUND", "review", "fr", "free", ("slack", "BILLING")),  # a reviewer corrected it: wrong
    (2, "SHIPPING", "auto", "de", "free", None),
    (1, "REFUND", "auto", "en", "gold", None),
    (0, "BILLING", "review", "en", "free", None),  # waiting for review: SECRET_SUBJECT
    (0, "REFUND", "auto", "en", "gold", None),  # its write-back failed: not automation
]
REVIEW_INDEX, FAILED_WRITE_INDEX = 8, 9
REQUESTER = {"gold": "kim@bigco.example", "free": "lee@small.example"}


def seed(store) -> dict:
    """Returns the ids the tests look at."""
    now = utcnow()
    ids: dict = {}
    with store.session() as session:
        for n, (ago, category, decision, language, tier, verdict) in enumerate(PREDICTIONS):
            when = now - timedelta(days=ago, minutes=n)
            ticket = TicketRecord(helpdesk="zendesk", external_id=str(100 + n), body="body",
                                  subject=SECRET_SUBJECT if n == REVIEW_INDEX else f"ticket {n}",
                                  language=language, tier=tier, requester=REQUESTER[tier], received_at=when)
            session.add(ticket)
            session.flush()
            delivery = Delivery(idempotency_key=f"zendesk:ticket.created:{100 + n}", helpdesk="zendesk",
                                event_type="ticket.created", ticket_id=ticket.id, state=DONE, received_at=when,
                                finished_at=when + timedelta(seconds=1 + n), request_id=f"req-{n}")
            session.add(delivery)
            session.flush()
            review = n == REVIEW_INDEX
            session.add(PredictionRecord(
                delivery_id=delivery.id, ticket_id=ticket.id, model_version="v-seeded", category=category,
                confidence=0.9 if decision == "auto" else 0.41, decision=decision, threshold=0.7,
                probabilities=REVIEW_PROBABILITIES if review else {category: 0.9}, latency_ms=10.0 + n,
                derived={"language": language or "de"}, created_at=when))
            if decision == "auto":
                failed = n == FAILED_WRITE_INDEX
                session.add(WriteBack(delivery_id=delivery.id, ticket_id=ticket.id, helpdesk="zendesk", route={},
                                      state="failed" if failed else "done", attempts=5 if failed else 1,
                                      last_error="Rejected: zendesk answered 422" if failed else None))
            if verdict:
                source, to = verdict
                session.add(Correction(ticket_id=ticket.id, source=source, user="U1", from_category=category,
                                       to_category=to, created_at=when + timedelta(minutes=5)))
            if review:
                message = ReviewMessage(ticket_id=ticket.id, delivery_id=delivery.id, created_at=when)
                session.add(message)
                session.flush()
                ids.update(review_id=message.id, review_ticket_id=ticket.id)
        failed_ticket = TicketRecord(helpdesk="zendesk", external_id="999", subject="broken one", body="y")
        stuck_ticket = TicketRecord(helpdesk="zendesk", external_id="998", subject="stuck one", body="z")
        session.add_all([failed_ticket, stuck_ticket])
        session.flush()
        failed = Delivery(idempotency_key="zendesk:ticket.created:999", helpdesk="zendesk",
                          event_type="ticket.created", ticket_id=failed_ticket.id, state=FAILED, failed_step="routed",
                          attempts=5, last_error="Unavailable: zendesk answered 503", request_id="req-failed")
        session.add(failed)
        session.add(Delivery(idempotency_key="zendesk:ticket.created:998", helpdesk="zendesk",
                             event_type="ticket.created", ticket_id=stuck_ticket.id, state=RECEIVED,
                             received_at=now - timedelta(hours=2, minutes=5)))
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
        ids["failed_id"] = failed.id
        return ids


def add_registry_version(model_dir: Path, version: str, metrics: dict, created: str) -> Path:
    """A registry version that loads (a copy of the bundled starter, renamed), with the given metrics."""
    folder = Path(model_dir) / "versions" / version
    shutil.copytree(REPO / "models" / "starter", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(version=version, metrics=metrics, created=created)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def log_in(page, base: str, problems: list[str], token: str = ADMIN_TOKEN) -> None:
    """Logs in with `token` from the admin page's login form in a browser; script errors and CSP violations
    from then on are added to `problems` (the login page's own 401 is expected)."""
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "401" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/admin")
    page.fill("#token", token)
    page.click("#login")
    page.wait_for_selector("body[data-drawn]")
