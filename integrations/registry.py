"""Finds the adapter for a helpdesk key, built from settings (dry-run where credentials are missing).

`ADAPTERS` maps each key to the function that builds its real adapter; a helpdesk whose API is not
configured gets a `DryRunHelpdesk`. The per-account budgets live in the store (`store.rate_budget`), so
real adapters get a `Store` of their own (a small pool; the budget is a couple of transactions a second).
"""
from __future__ import annotations

from typing import Callable

from config.settings import Settings
from integrations.base import DryRunHelpdesk, HelpdeskAdapter, ReviewNotifier, StoreReviewQueue
from store.database import Store

HELPDESKS = ("zendesk", "freshdesk")


def _zendesk(settings: Settings, store: Store) -> HelpdeskAdapter:
    from integrations.zendesk.adapter import ZendeskAdapter
    from integrations.zendesk.client import build_zenpy

    return ZendeskAdapter(build_zenpy(settings, store))


def _freshdesk(settings: Settings, store: Store) -> HelpdeskAdapter:
    from integrations.freshdesk.adapter import FreshdeskAdapter
    from integrations.freshdesk.client import build_client

    return FreshdeskAdapter(build_client(settings, store))


ADAPTERS: dict[str, tuple[Callable[[Settings], bool], Callable[[Settings, Store], HelpdeskAdapter]]] = {
    "zendesk": (lambda s: s.zendesk_enabled, _zendesk),
    "freshdesk": (lambda s: s.freshdesk_enabled, _freshdesk),
}


def build_helpdesk(key: str, settings: Settings, store: Store | None = None) -> HelpdeskAdapter:
    """The adapter for `key`: the real one when its API is configured, else dry-run."""
    if key not in ADAPTERS:
        raise KeyError(f"unknown helpdesk {key!r}; known: {', '.join(HELPDESKS)}")
    enabled, build = ADAPTERS[key]
    if not enabled(settings):
        return DryRunHelpdesk(key)
    return build(settings, store or Store(settings.database_url))


def build_helpdesks(settings: Settings) -> dict[str, HelpdeskAdapter]:
    store = Store(settings.database_url) if not settings.dry_run else None
    return {key: build_helpdesk(key, settings, store) for key in HELPDESKS}


def build_notifier(settings: Settings) -> ReviewNotifier:
    """Slack when it is configured, else the store's review queue (the admin page lists it)."""
    from integrations.slack import slack_configured

    if slack_configured(settings):
        from integrations.slack.notifier import SlackReviewNotifier

        return SlackReviewNotifier.from_settings(settings)
    return StoreReviewQueue()
