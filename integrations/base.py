"""The interfaces the pipeline calls: a helpdesk adapter per helpdesk, and a review notifier.

Later adapters (zenpy for Zendesk, REST v2 for Freshdesk, slack-bolt for review) implement these;
until they are configured the dry-run ones below record what would have been written.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from classifier.prediction import Prediction
from classifier.ticket import Ticket
from integrations.route import Route


class FetchUnavailable(Exception):
    """The adapter cannot read tickets from the helpdesk (dry-run: no credentials)."""


class HelpdeskAdapter(Protocol):
    key: str
    dry_run: bool

    def fetch_ticket(self, external_id: str) -> Ticket: ...

    def apply(self, external_id: str, route: Route) -> dict: ...


@dataclass(frozen=True)
class ReviewPost:
    channel: str | None
    ts: str | None


class ReviewNotifier(Protocol):
    def post_review(self, external_id: str, helpdesk: str, ticket: Ticket, prediction: Prediction) -> ReviewPost: ...


class DryRunHelpdesk:
    """No credentials for this helpdesk: writes nothing, returns what it would have written."""

    dry_run = True

    def __init__(self, key: str):
        self.key = key

    def fetch_ticket(self, external_id: str) -> Ticket:
        raise FetchUnavailable(f"{self.key} API is not configured (dry-run): cannot fetch ticket {external_id}")

    def apply(self, external_id: str, route: Route) -> dict:
        return {"dry_run": True, "ticket": external_id, "would_write": route.to_dict()}


class StoreReviewQueue:
    """No Slack: review tickets stay in the store's review queue (the admin page shows them)."""

    def post_review(self, external_id: str, helpdesk: str, ticket: Ticket, prediction: Prediction) -> ReviewPost:
        return ReviewPost(channel=None, ts=None)
