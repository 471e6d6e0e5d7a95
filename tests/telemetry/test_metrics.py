"""`GET /metrics` in one process: webhook outcomes, the pipeline's counters and histograms, and the gauges
read from the store at scrape time (queue depth, dead letters, review queue, corrections, model version)."""
from __future__ import annotations

import json

import pytest

from helpdesk_signing import zendesk_signed_headers
from metrics_text import samples, value
from store.models import Correction, Delivery, PredictionRecord, TicketRecord
from webhook_app import ZENDESK_SECRET

CONFIDENT = "I want a refund for my order, please give me my money back, how do I get a refund"


@pytest.fixture
def app(make_app, starter_model_path):
    return make_app()


def _post(client, ticket_id: str, subject: str, secret: str = ZENDESK_SECRET):
    body = json.dumps({"event": "ticket.created", "ticket_id": ticket_id, "subject": subject,
                       "description": "see subject"}).encode()
    return client.post("/webhooks/zendesk", data=body,
                       headers={"Content-Type": "application/json", **zendesk_signed_headers(secret, body)})


def _scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return samples(response.get_data(as_text=True))


def test_webhook_outcomes_pipeline_counters_and_store_gauges(app, store):
    client = app.test_client()
    before = _scrape(client)
    accepted = _post(client, "9001", CONFIDENT)
    assert _post(client, "9001", CONFIDENT).get_json()["duplicate"]
    assert _post(client, "9002", CONFIDENT, secret="wrong").status_code == 401
    queued = _post(client, "9003", "hello").get_json()["delivery_id"]
    middle = _scrape(client)

    def delta(scraped, name, **labels):
        return value(scraped, name, **labels) - value(before, name, **labels)

    for outcome, count in (("accepted", 2), ("duplicate", 1), ("bad_signature", 1)):
        assert delta(middle, "triage_webhook_deliveries_total", helpdesk="zendesk", outcome=outcome) == count
    assert value(middle, "triage_queue_depth", state="received") == 2

    runtime = app.extensions["triage"]
    assert runtime.pipeline.process(accepted.get_json()["delivery_id"], "w1") == "done"
    with store.session() as session:
        session.get(Delivery, queued).state = "failed"
        ticket = session.query(TicketRecord).filter_by(external_id="9001").one()
        session.add(Correction(ticket_id=ticket.id, source="slack", user="U1", from_category="REFUNDS",
                               to_category="SHIPPING"))
    after = _scrape(client)
    with store.session() as session:
        category = session.query(PredictionRecord.category).one()[0]
    assert delta(after, "triage_predictions_total", category=category, decision="auto") == 1
    assert delta(after, "triage_prediction_confidence_count", decision="auto") == 1
    assert delta(after, "triage_write_backs_total", helpdesk="zendesk", kind="route", outcome="dry_run") == 1
    assert delta(after, "triage_deliveries_processed_total", helpdesk="zendesk", outcome="done") == 1
    assert delta(after, "triage_delivery_seconds_count", helpdesk="zendesk") == 1
    assert delta(after, "triage_step_seconds_count", step="classify") == 1
    assert value(after, "triage_queue_depth", state="received") == 0
    assert value(after, "triage_failed_deliveries") == 1
    assert value(after, "triage_corrections_total", source="slack") == 1
    assert value(after, "triage_store_up") == 1
    model = [key for key in after if key[0] == "triage_model_info"]
    assert len(model) == 1 and dict(model[0][1])["version"] == runtime.models.get().version


def test_a_store_that_cannot_be_read_gives_store_up_0_not_a_failed_scrape(app, monkeypatch):
    def unreachable():
        raise ConnectionError("database is down")

    monkeypatch.setattr(app.extensions["triage"].store, "session", unreachable)
    scraped = _scrape(app.test_client())
    assert value(scraped, "triage_store_up") == 0
