"""Slack fixtures: the fake Web API, settings pointing at it, a recording helpdesk, a seeded review.

`slack_app` mounts the real blueprint and bolt app on a small Flask app over a store-only runtime, so
the click tests do not need the model; the whole-loop test uses `create_app` instead.
"""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from slack_interactions import SIGNING_SECRET
from webhook_app import app_settings

CATEGORIES = ["ACCOUNT", "CANCELLATION_FEE", "CONTACT", "DELIVERY", "FEEDBACK", "INVOICE", "NEWSLETTER", "ORDER",
              "PAYMENT", "REFUND", "SHIPPING"]


class RecordingHelpdesk:
    """A helpdesk adapter that records routes; it can fail, block, or report an agent's routing."""

    dry_run = False

    def __init__(self, key: str = "zendesk"):
        self.key, self.applied, self.failures, self.agent = key, [], 0, None
        self.gate: threading.Event | None = None

    def fetch_ticket(self, external_id):
        raise AssertionError("not asked for")

    def routed_by(self, external_id):
        return self.agent

    def apply(self, external_id, route):
        if self.gate is not None:
            self.gate.wait(10)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("helpdesk down")
        self.applied.append((external_id, route))
        return {"ticket": external_id, "written": route.to_dict()}


@pytest.fixture
def slack_settings(store, fake_slack):
    from config.validation import load_settings

    def build(**more):
        return load_settings(app_settings(
            store.url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
            slack_review_channel=REVIEW_CHANNEL, slack_api_url=fake_slack.url, **more), env_file=None)
    return build


@pytest.fixture
def helpdesk():
    return RecordingHelpdesk()


@pytest.fixture
def make_slack_app(store, slack_settings, helpdesk):
    """A Flask app with the Slack blueprint over a store-only runtime (no model needed)."""
    from flask import Flask

    from webhooks.http_errors import install_error_handlers
    from config.routing import load_routing
    from integrations.base import DryRunHelpdesk
    from webhooks import slack_events as web

    from webhooks.background import BackgroundWork

    runtimes = []

    def build(**more):
        settings = slack_settings(**more)
        runtime = SimpleNamespace(
            settings=settings, store=store, routing=load_routing(settings.triage_routing_file),
            pipeline=SimpleNamespace(helpdesks={"zendesk": helpdesk, "freshdesk": DryRunHelpdesk("freshdesk")}),
            background=BackgroundWork())
        runtimes.append(runtime)
        app = Flask(__name__)
        install_error_handlers(app)
        web.init_app(app, runtime)
        app.extensions["test_runtime"] = runtime
        return app
    yield build
    for runtime in runtimes:  # a click still being handled finishes before the store is emptied
        if helpdesk.gate is not None:
            helpdesk.gate.set()
        runtime.background.close()


@pytest.fixture
def seed_review(store, slack_settings):
    """A ticket decided "review" and its message posted to the fake Slack; returns the posted message."""
    from classifier.prediction import Prediction
    from classifier.ticket import Ticket
    from integrations.slack.notifier import SlackReviewNotifier
    from store.models import DONE, Delivery, PredictionRecord, ReviewMessage, TicketRecord

    def seed(external_id: str = "42", top=("REFUND", "ORDER", "PAYMENT")) -> dict:
        probabilities = {c: 0.01 for c in CATEGORIES} | dict(zip(top, (0.42, 0.31, 0.19)))
        prediction = Prediction(category=top[0], confidence=0.42, probabilities=probabilities,
                                explanation=["refund", "broken"], model_version="test-1")
        ticket = Ticket(subject="Broken mug", body="It arrived broken, write to me at kim@example.com")
        with store.session() as session:
            record = TicketRecord(helpdesk="zendesk", external_id=external_id, subject=ticket.subject,
                                  body=ticket.body, tags=[])
            session.add(record)
            session.flush()
            delivery = Delivery(idempotency_key=f"zendesk:ticket.created:{external_id}", helpdesk="zendesk",
                                event_type="ticket.created", ticket_id=record.id, state=DONE)
            session.add(delivery)
            session.flush()
            session.add(PredictionRecord(delivery_id=delivery.id, ticket_id=record.id, model_version="test-1",
                                         category=top[0], confidence=0.42, probabilities=probabilities,
                                         explanation=["refund", "broken"], decision="review", threshold=0.7))
            message = ReviewMessage(ticket_id=record.id, delivery_id=delivery.id)
            session.add(message)
            session.flush()
            message_id = message.id
        post = SlackReviewNotifier.from_settings(slack_settings()).post_review(external_id, "zendesk", ticket,
                                                                               prediction)
        with store.session() as session:
            message = session.get(ReviewMessage, message_id)
            message.channel, message.ts = post.channel, post.ts
        return {"ts": post.ts, "channel": post.channel, "blocks": _posted_blocks(slack_settings, post)}
    return seed


def _posted_blocks(slack_settings, post) -> list:
    from slack_sdk import WebClient

    settings = slack_settings()
    history = WebClient(token=BOT_TOKEN, base_url=settings.slack_api_url).conversations_history(channel=post.channel)
    return next(m for m in history["messages"] if m["ts"] == post.ts)["blocks"]
