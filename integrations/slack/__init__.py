"""The Slack review loop: review messages, button clicks, and the bolt app behind `POST /slack/events`."""
from __future__ import annotations


def slack_configured(settings) -> bool:
    """Slack is on when the bot can post and Slack's requests can be verified (settings enforce the channel)."""
    return bool(settings.slack_bot_token and settings.slack_signing_secret and settings.slack_review_channel)
