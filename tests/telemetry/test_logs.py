"""Log lines of a whole webhook -> done flow: one request id from the webhook through the worker's lines,
and neither a secret from the settings nor the ticket's text anywhere in the output.

The flow runs through the real app, the bundled model, the in-process worker threads, the real Zendesk
adapter against the fake Zendesk (auto-route) and the real Slack notifier against the fake Slack (review).
"""
from __future__ import annotations

import io
import json
import logging
import time

import pytest
from sqlalchemy import select

from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from fake_zendesk import EMAIL, TOKEN
from helpdesk_signing import zendesk_signed_headers
from slack_interactions import SIGNING_SECRET
from store.models import DONE, Delivery
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

ADMIN_TOKEN, API_KEY = "admin-token-never-logged-51", "predict-key-never-logged-77"
SECRETS = [ZENDESK_SECRET, FRESHDESK_SECRET, TOKEN, BOT_TOKEN, SIGNING_SECRET, ADMIN_TOKEN, API_KEY]
CONFIDENT = ("I want a refund for my order, please give me my money back, how do I get a refund",
             "QZ-unique-4711: I need a refund of my order and my money back, card ending 4242, refund please")
UNSURE = ("I want to leave feedback about your great service, I want to give a review",  # always reviewed
          "Feedback body text QZ-unique-9153 about the courier Jo Example")


@pytest.fixture
def fakes(fake_zendesk, fake_slack):
    return fake_zendesk, fake_slack


@pytest.fixture
def log_output():
    """What `configure_logging`'s JSON handler writes, captured (the handler itself, filters and all)."""
    from app import JsonFormatter

    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.fixture
def app(make_app, fakes, starter_model_path):
    zendesk, slack = fakes
    return make_app(
        zendesk_api_url=zendesk.url, zendesk_email=EMAIL, zendesk_api_token=TOKEN, slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET, slack_review_channel=REVIEW_CHANNEL, slack_api_url=slack.url,
        triage_admin_token=ADMIN_TOKEN, triage_api_keys=API_KEY)


def _send(client, ticket_id: str, subject: str, body: str, request_id: str | None):
    payload = json.dumps({"event": "ticket.created", "ticket_id": ticket_id, "subject": subject,
                          "description": body, "requester": "sam@example.org"}).encode()
    headers = {"Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, payload)}
    if request_id:
        headers["X-Request-Id"] = request_id
    response = client.post("/webhooks/zendesk", data=payload, headers=headers)
    assert response.status_code == 202
    return response.get_json()["delivery_id"], response.headers["X-Request-Id"]


def _wait_done(store, ids: list[int], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.session() as session:
            states = session.scalars(select(Delivery.state).where(Delivery.id.in_(ids))).all()
        if len(states) == len(ids) and all(state == DONE for state in states):
            return
        time.sleep(0.1)
    raise AssertionError(f"deliveries not done: {states}")


def test_one_request_id_follows_a_ticket_and_no_secret_or_ticket_text_is_logged(app, store, fakes, log_output):
    zendesk, slack = fakes
    zendesk.add_ticket(501, subject=CONFIDENT[0], description=CONFIDENT[1])
    zendesk.add_ticket(502, subject=UNSURE[0], description=UNSURE[1])
    runtime = app.extensions["triage"]
    client = app.test_client()
    runtime.queue.start()  # the in-process worker threads: the worker's lines come from other threads
    routed_id, routed_request = _send(client, "501", *CONFIDENT, request_id="req-from-zendesk-501")
    review_id, review_request = _send(client, "502", *UNSURE, request_id=None)
    _wait_done(store, [routed_id, review_id])
    client.get("/admin", headers={"Authorization": "Bearer wrong-" + ADMIN_TOKEN})
    client.post("/predict", json={"subject": "x"}, headers={"Authorization": "Bearer " + API_KEY})
    runtime.queue.stop()

    output = log_output.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert routed_request == "req-from-zendesk-501" and len(review_request) == 32  # given, or generated

    def messages_for(request_id):
        return [(line["message"], line.get("delivery_id")) for line in lines if line.get("request_id") == request_id]

    routed = messages_for(routed_request)
    assert ("delivery accepted", routed_id) in routed  # the webhook
    assert ("classified", routed_id) in routed  # the worker thread
    assert ("written back", routed_id) in routed  # after the helpdesk confirmed
    review = messages_for(review_request)
    assert ("delivery accepted", review_id) in review and ("classified", review_id) in review
    assert ("sent to review", review_id) in review
    assert any(line["message"] == "review posted" and line.get("request_id") == review_request for line in lines)
    assert zendesk.requests and slack.calls  # the secrets really were used on the wire meanwhile

    for secret in SECRETS:
        assert secret not in output, f"a secret from the settings was logged: {secret[:4]}..."
    for text in CONFIDENT[1:] + UNSURE[1:] + ("QZ-unique", "sam@example.org", "card ending 4242", "Jo Example"):
        assert text not in output, f"ticket text was logged: {text}"


def test_a_secret_that_slips_into_a_message_is_redacted(app, log_output):
    logging.getLogger("triage.test").warning("calling with %s", TOKEN, extra={"url": f"https://x/?t={BOT_TOKEN}"})
    line = json.loads(log_output.getvalue().splitlines()[-1])
    assert line["message"] == "calling with [redacted]" and line["url"] == "https://x/?t=[redacted]"
