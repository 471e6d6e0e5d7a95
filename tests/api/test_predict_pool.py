"""Predict traffic has a bounded share (issue 18): the model runs in the predict pool's child processes
(api.predict_pool); a call beyond the share gets 429 at once while intake answers; a call over the time
limit gets 503 and the next call works; the answers are the ones the model gives in-process."""
from __future__ import annotations

import json
import threading

import pytest

from helpdesk_signing import zendesk_signed_headers
from webhook_app import ZENDESK_SECRET

KEY = "pool-predict-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
TICKETS = [{"subject": "Refund", "body": "I want my money back for order 42"},
           {"subject": "I forgot my account password", "body": "the reset link never arrives", "channel": "email"},
           {"subject": "Where is my parcel?", "tags": ["vip"], "created_at": "2026-03-02T09:30:00Z"},
           {"body": ""}]

# one process, no queue: one call holds the whole share. Processes are spawned per app, so SQLite only.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def big_batch(size: int = 1000) -> dict:
    """The largest batch, each ticket about 1.5 kB: a call the model spends seconds on."""
    words = "hello my parcel from order {n} has not arrived and I would like a refund or a new one please "
    return {"tickets": [{"subject": f"order {n} missing", "body": (words * 16).format(n=n)} for n in range(size)]}


def signed_zendesk_delivery(client, n: int):
    body = json.dumps({"ticket_id": str(9000 + n), "subject": "I need a refund", "description": "order 7",
                       "requester": "someone@example.com", "created_at": "2026-03-02T09:30:00Z"}).encode()
    return client.post("/webhooks/zendesk", data=body,
                       headers={"Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, body)})


def wait_until(condition, what: str, seconds: float = 120.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_a_call_beyond_the_share_gets_429_while_intake_answers(make_app):
    from api.predict_pool import predict_pool

    app = make_app(triage_api_keys=[KEY], triage_predict_processes=1, triage_predict_queue=0,
                   triage_max_body_bytes=4 * 1024 * 1024)
    client = app.test_client()
    slow: dict = {}
    holder = threading.Thread(target=lambda: slow.update(
        response=app.test_client().post("/predict/batch", json=big_batch(), headers=AUTH)))
    holder.start()
    try:
        wait_until(lambda: predict_pool(app).in_flight == 1, "the big batch holds the only place")

        for path, body in (("/predict", TICKETS[0]), ("/predict/batch", {"tickets": TICKETS})):
            refused = client.post(path, json=body, headers=AUTH)
            assert refused.status_code == 429, refused.get_data()
            assert refused.get_json()["error"] == "busy" and "TRIAGE_PREDICT_QUEUE" in refused.get_json()["detail"]
            assert int(refused.headers["Retry-After"]) >= 1
        # the key check still comes first; a full pool answers before reading the body (refusals cost nothing)
        assert client.post("/predict", json=TICKETS[0]).status_code == 401
        assert client.post("/predict", json={"subject": 5}, headers=AUTH).status_code == 429
        # intake answers meanwhile
        assert client.get("/healthz").status_code == 200
        assert signed_zendesk_delivery(client, 1).status_code == 202
    finally:
        holder.join(timeout=300)

    assert slow["response"].status_code == 200, slow["response"].get_data()
    assert len(slow["response"].get_json()["predictions"]) == 1000
    assert predict_pool(app).in_flight == 0
    after = client.post("/predict", json=TICKETS[0], headers=AUTH)
    assert after.status_code == 200 and after.get_json()["category"] == "REFUNDS"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'triage_predict_refused_total{reason="busy"}' in metrics


def test_a_queued_call_waits_for_its_turn_and_is_answered(make_app):
    from api.predict_pool import predict_pool

    app = make_app(triage_api_keys=[KEY], triage_predict_processes=1, triage_predict_queue=1,
                   triage_max_body_bytes=4 * 1024 * 1024)
    answers: list = []
    callers = [threading.Thread(target=lambda: answers.append(
        app.test_client().post("/predict/batch", json=big_batch(300), headers=AUTH).status_code)) for _ in range(2)]
    for caller in callers:
        caller.start()
    wait_until(lambda: predict_pool(app).in_flight == 2 or len(answers) > 0, "both calls are admitted")
    for caller in callers:
        caller.join(timeout=300)
    assert answers == [200, 200]


def test_predictions_through_the_pool_equal_the_models_own(make_app):
    from classifier.ticket import Ticket  # noqa: F401  (the API's tickets, as the model sees them)
    from api.schemas import TicketIn

    app = make_app(triage_api_keys=[KEY])
    client = app.test_client()
    model = app.extensions["triage"].models.get()  # the same registry, loaded in this process
    tickets = [TicketIn.model_validate(t).to_ticket() for t in TICKETS]

    batch = client.post("/predict/batch", json={"tickets": TICKETS}, headers=AUTH)
    assert batch.status_code == 200
    with app.app_context():
        expected = app.json.response({"predictions": [p.to_dict() for p in model.predict_batch(tickets)]})
    assert batch.get_json() == expected.get_json()
    assert batch.get_data() == expected.get_data()  # byte for byte

    for raw, ticket in zip(TICKETS, tickets):
        one = client.post("/predict", json=raw, headers=AUTH)
        assert one.status_code == 200
        with app.app_context():
            assert one.get_data() == app.json.response(model.predict(ticket).to_dict()).get_data()


def test_a_call_over_the_time_limit_gets_503_and_the_next_call_works(make_app):
    app = make_app(triage_api_keys=[KEY], triage_predict_time_limit_seconds=0.5,
                   triage_max_body_bytes=4 * 1024 * 1024)
    client = app.test_client()
    assert client.post("/predict", json=TICKETS[0], headers=AUTH).status_code == 200  # the child is up

    stopped = client.post("/predict/batch", json=big_batch(), headers=AUTH)
    assert stopped.status_code == 503, stopped.get_data()
    assert stopped.get_json()["error"] == "unavailable"
    assert "TRIAGE_PREDICT_TIME_LIMIT_SECONDS" in stopped.get_json()["detail"]
    assert int(stopped.headers["Retry-After"]) >= 1

    again = client.post("/predict", json=TICKETS[0], headers=AUTH)  # a new child, started for it
    assert again.status_code == 200, again.get_data()
    assert again.get_json()["category"] == "REFUNDS"


def test_the_pool_stops_with_the_app(make_app):
    import multiprocessing

    from api.predict_pool import predict_pool, stop_predict_pool

    before = set(multiprocessing.active_children())
    app = make_app(triage_api_keys=[KEY], triage_preload_model=True)  # the children start with the app
    pool = predict_pool(app)
    wait_until(lambda: set(multiprocessing.active_children()) - before, "the child started")
    children = set(multiprocessing.active_children()) - before
    assert app.test_client().post("/predict", json=TICKETS[0], headers=AUTH).status_code == 200
    stop_predict_pool(app)
    wait_until(lambda: not any(p.is_alive() for p in children), "the children stopped", seconds=30)
    assert pool.in_flight == 0
