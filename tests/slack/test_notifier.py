"""The review notifier against the fake Slack: what is posted, retries on 429 and 5xx, never posting twice."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from classifier.prediction import Prediction
from classifier.ticket import Ticket
from fake_slack import BOT_TOKEN, REVIEW_CHANNEL
from integrations.base import StoreReviewQueue
from integrations.slack.client import Retrying, SlackRateLimited
from integrations.slack.notifier import SlackReviewNotifier
from store.types import utcnow

SETTINGS = SimpleNamespace(zendesk_api_url=None, zendesk_subdomain="acme", freshdesk_api_url=None,
                           freshdesk_domain=None)
PREDICTION = Prediction(category="REFUND", confidence=0.4,
                        probabilities={"REFUND": 0.4, "ORDER": 0.35, "SHIPPING": 0.25},
                        explanation=["refund"], model_version="test-1")
TICKET = Ticket(subject="Where is my refund?", body="Please call me on +1 415 555 0100")


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def notifier(fake_slack, sleeps):
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.url)
    return SlackReviewNotifier(client, REVIEW_CHANNEL, SETTINGS, Retrying(attempts=4, base_seconds=1.0,
                                                                         max_wait=30.0, sleep=sleeps.append))


def test_a_review_is_posted_to_the_review_channel_with_the_bot_token(notifier, fake_slack):
    post = notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    call = fake_slack.wait_for("chat.postMessage")[0]
    assert call.token == BOT_TOKEN and call.args["channel"] == REVIEW_CHANNEL
    assert (post.channel, post.ts) == (REVIEW_CHANNEL, fake_slack.messages[REVIEW_CHANNEL][0]["ts"])
    assert "555" not in str(call.args) and call.args["metadata"]["event_payload"] == {"helpdesk": "zendesk",
                                                                                      "external_id": "7"}


def test_a_429_is_retried_after_slacks_retry_after(notifier, fake_slack, sleeps):
    fake_slack.fail("chat.postMessage", 429, times=2, headers={"Retry-After": "7"})
    post = notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert sleeps == [7.0, 7.0]
    assert len(fake_slack.calls_to("chat.postMessage")) == 3 and len(fake_slack.messages[REVIEW_CHANNEL]) == 1
    assert post.ts == fake_slack.messages[REVIEW_CHANNEL][0]["ts"]


def test_a_long_retry_after_goes_back_to_the_pipeline_instead_of_blocking_a_worker(notifier, fake_slack, sleeps):
    fake_slack.fail("chat.postMessage", 429, headers={"Retry-After": "120"})
    with pytest.raises(SlackRateLimited) as raised:
        notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert raised.value.retry_after == 120.0 and sleeps == []
    assert REVIEW_CHANNEL not in fake_slack.messages


def test_server_errors_are_retried_with_exponential_backoff(notifier, fake_slack, sleeps):
    fake_slack.fail("chat.postMessage", 500, times=2)
    fake_slack.fail("chat.postMessage", 503, body="<html>Service Unavailable</html>")
    notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fake_slack.messages[REVIEW_CHANNEL]) == 1


def test_slack_down_for_longer_raises_after_the_last_attempt(notifier, fake_slack, sleeps):
    fake_slack.fail("chat.postMessage", 500, times=10)
    with pytest.raises(SlackApiError):
        notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert len(fake_slack.calls_to("chat.postMessage")) == 4 and sleeps == [1.0, 2.0, 4.0]


def test_a_permanent_error_is_not_retried(notifier, fake_slack, sleeps):
    fake_slack.fail("chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"})
    with pytest.raises(SlackApiError):
        notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert sleeps == [] and len(fake_slack.calls_to("chat.postMessage")) == 1


def test_find_review_finds_the_message_posted_for_a_ticket_by_its_metadata(notifier, fake_slack):
    since = utcnow() - timedelta(minutes=1)
    assert notifier.find_review("7", "zendesk", since) is None  # channel has no history yet
    notifier.post_review("8", "zendesk", TICKET, PREDICTION)
    posted = notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert notifier.find_review("7", "zendesk", since) == posted
    assert notifier.find_review("7", "freshdesk", since) is None
    history = fake_slack.calls_to("conversations.history")[-1].args
    assert history["include_all_metadata"] in ("1", "true", True)


def test_without_slack_the_review_stays_in_the_store_queue():
    from config.validation import load_settings
    from integrations.registry import build_notifier

    assert isinstance(build_notifier(load_settings({}, env_file=None)), StoreReviewQueue)
    configured = load_settings({"slack_bot_token": BOT_TOKEN, "slack_signing_secret": "s",
                                "slack_review_channel": REVIEW_CHANNEL}, env_file=None)
    assert isinstance(build_notifier(configured), SlackReviewNotifier)


def test_waits_stop_at_the_budget_so_a_worker_stays_inside_its_lease(notifier, fake_slack, sleeps):
    fake_slack.fail("chat.postMessage", 429, times=3, headers={"Retry-After": "8"})
    with pytest.raises(SlackRateLimited):
        notifier.post_review("7", "zendesk", TICKET, PREDICTION)
    assert sleeps == [8.0, 8.0]  # a third wait would pass the 20 s budget: the pipeline defers instead
    assert REVIEW_CHANNEL not in fake_slack.messages
