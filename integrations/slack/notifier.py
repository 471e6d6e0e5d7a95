"""`SlackReviewNotifier`: posts a review message to `SLACK_REVIEW_CHANNEL` and finds one posted before.

"Never posted twice": the pipeline stores the message's `ts` after the post. If a worker dies between
Slack's answer and that commit, the next attempt would post again. So the pipeline first records the
channel (the attempt), and an attempt that finds a channel but no `ts` asks `find_review` first: each
message carries metadata naming its ticket, and `conversations.history` (with `include_all_metadata`)
finds it. What is left: Slack not yet listing a message it accepted a moment ago, or the bot lacking the
history scope (`channels:history` / `groups:history`), in which case we log and post again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from classifier.prediction import Prediction
from classifier.ticket import Ticket
from integrations.base import ReviewPost
from integrations.circuit import CircuitBreaker
from integrations.outage import is_outage
from integrations.slack.client import Retrying, make_client
from integrations.slack.messages import METADATA_EVENT, review_message

log = logging.getLogger(__name__)
HISTORY_PAGES = 10  # at most 2,000 messages searched since the review was created
HISTORY_SLACK_SECONDS = 300  # clock skew between us and Slack
NO_HISTORY = {"missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type"}


class SlackReviewNotifier:
    """Calls go through a circuit breaker (per process): while Slack is down, reviews are deferred at once
    (`CircuitOpen`, no attempt spent) instead of each waiting out its retries against a dead API."""

    def __init__(self, client: WebClient, channel: str, settings, retrying: Retrying | None = None,
                 breaker: CircuitBreaker | None = None):
        self.client, self.channel, self.settings = client, channel, settings
        self.retrying = retrying or Retrying()
        self.breaker = breaker or CircuitBreaker("slack")

    @classmethod
    def from_settings(cls, settings) -> "SlackReviewNotifier":
        # 3 tries of at most 10 s each plus the pauses stay inside TRIAGE_TICKET_TIME_LIMIT_SECONDS
        budget = min(10.0, settings.triage_lease_seconds / 6)
        return cls(make_client(settings), settings.slack_review_channel, settings,
                   Retrying(attempts=3, max_wait=budget, budget_seconds=budget))

    def _call(self, method: str, call):
        self.breaker.before_call(lambda: self.client.auth_test())  # the probe: a cheap call
        try:
            result = self.retrying.call(method, call)
        except Exception as exc:
            if is_outage(exc):
                self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result

    def post_review(self, external_id: str, helpdesk: str, ticket: Ticket, prediction: Prediction) -> ReviewPost:
        message = review_message(external_id, helpdesk, ticket, prediction, self.settings)
        response = self._call("chat.postMessage",
                              lambda: self.client.chat_postMessage(channel=self.channel, **message))
        log.info("review posted", extra={"helpdesk": helpdesk, "ticket": external_id,
                                         "message_ts": response["ts"]})
        return ReviewPost(channel=response["channel"], ts=response["ts"])

    def find_review(self, external_id: str, helpdesk: str, since: datetime | None = None) -> ReviewPost | None:
        """The review message an earlier attempt posted for this ticket, if Slack lists one."""
        oldest = (since - timedelta(seconds=HISTORY_SLACK_SECONDS)).timestamp() if since else None
        cursor = None
        for _ in range(HISTORY_PAGES):
            try:
                page = self._call("conversations.history", lambda: self.client.conversations_history(
                    channel=self.channel, oldest=f"{oldest:.6f}" if oldest else None, include_all_metadata=True,
                    limit=200, cursor=cursor))
            except SlackApiError as exc:
                if exc.response.get("error") in NO_HISTORY:
                    log.warning("cannot read the review channel's history; posting without the duplicate check",
                                extra={"error": exc.response.get("error")})
                    return None
                raise
            for message in page.get("messages", []):
                if _names_ticket(message.get("metadata") or {}, helpdesk, external_id):
                    return ReviewPost(channel=self.channel, ts=message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None


def _names_ticket(metadata: dict, helpdesk: str, external_id: str) -> bool:
    payload = metadata.get("event_payload") or {}
    return (metadata.get("event_type") == METADATA_EVENT and payload.get("helpdesk") == helpdesk
            and str(payload.get("external_id")) == str(external_id))
