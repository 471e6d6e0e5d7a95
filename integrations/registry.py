"""Finds the adapter for a helpdesk key, built from settings (dry-run where credentials are missing).

`ADAPTERS` maps each key to the function that builds its real adapter; a helpdesk whose API is not
configured gets a `DryRunHelpdesk`. The per-account budgets live in the store (`store.rate_budget`), so
real adapters get a `Store` of their own (a small pool; the budget is a couple of transactions a second).
"""
from __future__ import annotations

from typing import Callable

from config.routing import AssignmentConfig, load_routing
from config.settings import Settings
from integrations.assignment import Assigner
from integrations.base import DryRunHelpdesk, HelpdeskAdapter, ReviewNotifier, StoreReviewQueue
from store.database import Store

HELPDESKS = ("zendesk", "freshdesk")


def _zendesk(settings: Settings, store: Store, assignment: AssignmentConfig) -> HelpdeskAdapter:
    from integrations.zendesk.adapter import ZendeskAdapter
    from integrations.zendesk.client import build_zenpy
    from integrations.zendesk.team import ZendeskTeam

    zenpy = build_zenpy(settings, store)
    return ZendeskAdapter(zenpy, assigner=_assigner(settings, store, "zendesk", ZendeskTeam(zenpy), assignment))


def _freshdesk(settings: Settings, store: Store, assignment: AssignmentConfig) -> HelpdeskAdapter:
    from integrations.freshdesk.adapter import FreshdeskAdapter
    from integrations.freshdesk.client import build_client
    from integrations.freshdesk.team import FreshdeskTeam

    client = build_client(settings, store)
    return FreshdeskAdapter(client, assigner=_assigner(settings, store, "freshdesk", FreshdeskTeam(client), assignment))


def _assigner(settings: Settings, store: Store, key: str, team, assignment: AssignmentConfig) -> Assigner:
    return Assigner(store, key, team, assignment, settings.triage_assignment_refresh_seconds)


Build = Callable[[Settings, Store, AssignmentConfig], HelpdeskAdapter]
ADAPTERS: dict[str, tuple[Callable[[Settings], bool], Build]] = {
    "zendesk": (lambda s: s.zendesk_enabled, _zendesk),
    "freshdesk": (lambda s: s.freshdesk_enabled, _freshdesk),
}


def build_helpdesk(key: str, settings: Settings, store: Store | None = None,
                   assignment: AssignmentConfig | None = None) -> HelpdeskAdapter:
    """The adapter for `key`: the real one when its API is configured, else dry-run. `assignment` is the
    routing file's `[assignment]` (read from TRIAGE_ROUTING_FILE when not given)."""
    if key not in ADAPTERS:
        raise KeyError(f"unknown helpdesk {key!r}; known: {', '.join(HELPDESKS)}")
    enabled, build = ADAPTERS[key]
    if not enabled(settings):
        return DryRunHelpdesk(key)
    if assignment is None:
        assignment = load_routing(settings.triage_routing_file).assignment
    return build(settings, store or Store(settings.database_url), assignment)


def build_helpdesks(settings: Settings, assignment: AssignmentConfig | None = None) -> dict[str, HelpdeskAdapter]:
    store = Store(settings.database_url) if not settings.dry_run else None
    return {key: build_helpdesk(key, settings, store, assignment) for key in HELPDESKS}


def build_notifier(settings: Settings) -> ReviewNotifier:
    """Slack when it is configured, else the store's review queue (the admin page lists it)."""
    from integrations.slack import slack_configured

    if slack_configured(settings):
        from integrations.slack.notifier import SlackReviewNotifier

        return SlackReviewNotifier.from_settings(settings)
    return StoreReviewQueue()
