"""The pipeline's review step with the Slack notifier: posted once, even across a crash or a Slack outage."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from integrations.base import StoreReviewQueue
from integrations.slack.client import Retrying
from integrations.slack.notifier import SlackReviewNotifier
from store.models import DONE, REVIEW, Delivery, PredictionRecord, ReviewMessage, TicketRecord
from store.types import utcnow


class CrashAfterPost:
    """Slack accepts the message, then the worker dies before it can record the ts."""

    def __init__(self, notifier):
        self.notifier, self.channel = notifier, notifier.channel

    def find_review(self, *args):
        return self.notifier.find_review(*args)

    def post_review(self, *args):
        self.notifier.post_review(*args)
        raise RuntimeError("worker died before the commit")


@pytest.fixture
def pipeline(store, slack_settings, fake_slack):
    from config.routing import load_routing
    from integrations.base import DryRunHelpdesk
    from webhooks.pipeline import Pipeline, PipelineSettings

    settings = slack_settings()
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    notifier = SlackReviewNotifier(client, REVIEW_CHANNEL, settings, Retrying(attempts=2, sleep=lambda s: None))
    return Pipeline(store, None, load_routing(settings.triage_routing_file),
                    {"zendesk": DryRunHelpdesk("zendesk")}, notifier,
                    PipelineSettings(default_threshold=0.7, max_attempts=5, retry_base_seconds=1,
                                     retry_max_seconds=10, lease_seconds=30))


def review_delivery(store, external_id: str = "9") -> int:
    """A delivery the pipeline already classified and decided "review" (the step before posting)."""
    with store.session() as session:
        record = TicketRecord(helpdesk="zendesk", external_id=external_id, subject="Hm", body="Something odd", tags=[])
        session.add(record)
        session.flush()
        delivery = Delivery(idempotency_key=f"zendesk:ticket.created:{external_id}", helpdesk="zendesk",
                            event_type="ticket.created", ticket_id=record.id, state=REVIEW)
        session.add(delivery)
        session.flush()
        session.add(PredictionRecord(delivery_id=delivery.id, ticket_id=record.id, model_version="test-1",
                                     category="ORDER", confidence=0.3, explanation=["odd"], decision="review",
                                     threshold=0.7, probabilities={"ORDER": 0.3, "REFUND": 0.3, "SHIPPING": 0.4}))
        session.add(ReviewMessage(ticket_id=record.id, delivery_id=delivery.id))
        return delivery.id


def make_due(store, delivery_id: int) -> None:
    with store.session() as session:
        session.get(Delivery, delivery_id).next_attempt_at = utcnow()


def review(store) -> ReviewMessage:
    with store.session() as session:
        return session.scalar(select(ReviewMessage))


def test_a_review_is_posted_and_its_channel_and_ts_stored(store, pipeline, fake_slack):
    delivery_id = review_delivery(store)
    assert pipeline.process(delivery_id, "w1") == DONE
    (posted,) = fake_slack.messages[REVIEW_CHANNEL]
    assert (review(store).channel, review(store).ts, review(store).state) == (REVIEW_CHANNEL, posted["ts"], "open")


def test_a_crash_between_slacks_answer_and_the_commit_does_not_post_twice(store, pipeline, fake_slack):
    delivery_id = review_delivery(store)
    real = pipeline.notifier
    pipeline.notifier = CrashAfterPost(real)
    assert pipeline.process(delivery_id, "w1") == REVIEW  # failed attempt, recorded
    assert (review(store).channel, review(store).ts) == (REVIEW_CHANNEL, None)
    pipeline.notifier = real
    make_due(store, delivery_id)
    assert pipeline.process(delivery_id, "w2") == DONE
    (posted,) = fake_slack.messages[REVIEW_CHANNEL]  # still one message
    assert review(store).ts == posted["ts"]
    assert len(fake_slack.calls_to("conversations.history")) == 1


@pytest.mark.parametrize("status", [429, 500])
def test_slack_down_leaves_the_delivery_for_a_later_retry_and_then_posts_once(store, pipeline, fake_slack, status):
    delivery_id = review_delivery(store)
    fake_slack.fail("chat.postMessage", status, times=2, headers={"Retry-After": "3"} if status == 429 else None)
    assert pipeline.process(delivery_id, "w1") == REVIEW
    with store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery.next_attempt_at > utcnow()
        # a rate limit or an outage is not the ticket's fault: deferred, no attempt spent
        assert delivery.attempts == 0
        assert ("SlackRateLimited" if status == 429 else "outage: SlackApiError") in delivery.last_error
    make_due(store, delivery_id)
    assert pipeline.process(delivery_id, "w1") == DONE
    assert len(fake_slack.messages[REVIEW_CHANNEL]) == 1


def test_a_long_slack_outage_never_dead_letters_and_the_breaker_spares_slack(store, pipeline, fake_slack):
    """Slack answers 503 for longer than a delivery has attempts: every ticket waits (no attempt spent);
    after the breaker's threshold, calls stop reaching Slack until its probe succeeds; then all are posted."""
    from integrations.circuit import CircuitBreaker

    clock = [0.0]
    pipeline.notifier.breaker = CircuitBreaker("slack", threshold=3, cooldown=30, clock=lambda: clock[0])
    deliveries = [review_delivery(store, str(20 + n)) for n in range(8)]
    fake_slack.fail("chat.postMessage", 503, times=1000)
    for delivery_id in deliveries:
        assert pipeline.process(delivery_id, "w1") == REVIEW
    # 3 failures open the breaker (2 tries each), the other 5 deliveries never reach Slack
    assert len(fake_slack.calls_to("chat.postMessage")) == 3 * 2
    with store.session() as session:
        for delivery_id in deliveries:
            delivery = session.get(Delivery, delivery_id)
            assert delivery.attempts == 0 and delivery.state == REVIEW and delivery.next_attempt_at > utcnow()
        assert "CircuitOpen" in session.get(Delivery, deliveries[-1]).last_error
    fake_slack._failures.clear()  # Slack is back; the breaker's probe (auth.test) finds it after the cooldown
    clock[0] += 31
    for delivery_id in deliveries:
        make_due(store, delivery_id)
        assert pipeline.process(delivery_id, "w1") == DONE
    assert len(fake_slack.messages[REVIEW_CHANNEL]) == len(deliveries)
    assert len(fake_slack.calls_to("auth.test")) == 1


def test_without_slack_the_ticket_waits_in_the_store_review_queue(store, pipeline, fake_slack):
    pipeline.notifier = StoreReviewQueue()
    delivery_id = review_delivery(store)
    assert pipeline.process(delivery_id, "w1") == DONE
    assert (review(store).channel, review(store).ts, review(store).state) == (None, None, "open")
    assert fake_slack.calls == []
