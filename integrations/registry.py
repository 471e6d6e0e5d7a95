"""Finds the adapter for a helpdesk key, built from settings (dry-run where credentials are missing)."""
from __future__ import annotations

from config.settings import Settings
from integrations.base import DryRunHelpdesk, HelpdeskAdapter, ReviewNotifier, StoreReviewQueue

HELPDESKS = ("zendesk", "freshdesk")


def build_helpdesks(settings: Settings) -> dict[str, HelpdeskAdapter]:
    return {key: DryRunHelpdesk(key) for key in HELPDESKS}


def build_notifier(settings: Settings) -> ReviewNotifier:
    """Slack when it is configured, else the store's review queue (the admin page lists it)."""
    from integrations.slack import slack_configured

    if slack_configured(settings):
        from integrations.slack.notifier import SlackReviewNotifier

        return SlackReviewNotifier.from_settings(settings)
    return StoreReviewQueue()
