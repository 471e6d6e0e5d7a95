"""The whole review loop through the real app, the bundled model, the fake Slack and the fake Zendesk:

a signed webhook of an unsure ticket -> the worker posts a review message with its buttons -> a signed
click built from the posted button's own action_id and value -> correction stored, route written to
Zendesk through the real adapter, message updated without buttons.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from fake_zendesk import EMAIL, TOKEN
from helpdesk_signing import zendesk_signed_headers
from slack_interactions import SIGNING_SECRET, block_actions, post_interaction
from store.models import DONE, Correction, Delivery, PredictionRecord, ReviewMessage, WriteBack
from webhook_app import ZENDESK_SECRET
from polling import wait_until


@pytest.fixture
def app(make_app, fake_slack, fake_zendesk, starter_model_path):
    return make_app(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_review_channel=REVIEW_CHANNEL,
        slack_api_url=fake_slack.url, zendesk_api_url=fake_zendesk.url, zendesk_email=EMAIL, zendesk_api_token=TOKEN)


def test_an_unsure_ticket_goes_to_slack_and_one_click_routes_it(app, store, fake_slack, fake_zendesk):
    fake_zendesk.add_ticket(4242, subject="hello", description="hello there")
    client = app.test_client()
    body = json.dumps({"event": "ticket.created", "ticket_id": "4242", "subject": "hello",
                       "description": "not sure who to ask, mail me at sam@example.org"}).encode()
    response = client.post("/webhooks/zendesk", data=body, headers={
        "Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, body)})
    assert response.status_code == 202
    delivery_id = response.get_json()["delivery_id"]

    assert app.extensions["triage"].pipeline.process(delivery_id, "w1") == DONE
    posted = fake_slack.wait_for("chat.postMessage")[0].args
    assert posted["channel"] == REVIEW_CHANNEL and "sam@example.org" not in json.dumps(posted)
    with store.session() as session:
        prediction = session.scalar(select(PredictionRecord))
        review = session.scalar(select(ReviewMessage))
        assert prediction.decision == "review" and prediction.confidence < prediction.threshold
        assert (review.channel, review.state) == (REVIEW_CHANNEL, "open") and review.ts is not None
    message = {"ts": review.ts, "blocks": posted["blocks"]}
    buttons = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]
    assert [b["value"] for b in buttons[:3]] == [c for c, _ in sorted(
        prediction.probabilities.items(), key=lambda item: item[1], reverse=True)[:3]]
    chosen = buttons[1]["value"]  # the reviewer picks the model's second guess

    response = post_interaction(client, block_actions(message, REVIEW_CHANNEL, buttons[1]["action_id"],
                                                      user="U0ALICE"))
    assert response.status_code == 200
    update = fake_slack.wait_for("chat.update")[0].args
    assert update["ts"] == review.ts and "actions" not in [b["type"] for b in update["blocks"]]
    assert f"<@U0ALICE> routed this to *{chosen}*" in update["blocks"][-1]["text"]["text"]
    wait_until(lambda: _correction_write_back(store) and _correction_write_back(store).state == "done")
    assert not _correction_write_back(store).dry_run and fake_zendesk.applied[4242] == 1
    assert f"triage_{chosen.lower()}" in fake_zendesk.tickets[4242]["tags"]
    with store.session() as session:
        correction = session.scalar(select(Correction))
        assert (correction.user, correction.from_category, correction.to_category) == (
            "U0ALICE", prediction.category, chosen)
        assert session.get(Delivery, delivery_id).state == DONE
        assert session.scalar(select(ReviewMessage)).state == "resolved"


def _correction_write_back(store) -> WriteBack | None:
    with store.session() as session:
        return session.scalar(select(WriteBack).where(WriteBack.kind == "correction"))


