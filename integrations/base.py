"""The interfaces the pipeline calls: a helpdesk adapter per helpdesk, and a review notifier.

Each helpdesk implements `HelpdeskAdapter` (zenpy for Zendesk, REST v2 for Freshdesk); the registry
finds them by key. Until a helpdesk's API is configured the dry-run one below records what would have
been written. Adapters raise only the error types of `integrations.errors`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import Protocol

from classifier.prediction import Prediction
from classifier.ticket import Ticket
from integrations.route import Route


class FetchUnavailable(Exception):
    """The adapter cannot read tickets from the helpdesk (dry-run: no credentials)."""


@dataclass(frozen=True)
class HistoryTicket:
    """A solved or closed ticket from the helpdesk's history, with what a label can be read from."""

    external_id: str
    ticket: Ticket
    status: str
    group: str | None = None  # group id, as text
    fields: Mapping[str, object] = field(default_factory=dict)  # custom fields by id (Zendesk) or name (Freshdesk)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class HistoryPage:
    tickets: list[HistoryTicket]
    cursor: str | None  # pass it back to continue after this page
    done: bool  # no more pages for now


@dataclass(frozen=True)
class TicketField:
    key: str  # Zendesk: the field id; Freshdesk: the field name (cf_...)
    title: str
    options: frozenset[str]  # allowed values; empty: free text


@dataclass(frozen=True)
class Catalog:
    """What exists in the helpdesk right now: groups and agents by id (as text), ticket fields. A part the
    helpdesk answered in an unexpected shape is empty and named in `unconfirmed` ("groups" -> why)."""

    groups: Mapping[str, str]  # id -> name
    agents: Mapping[str, str]  # id -> name
    fields: Mapping[str, TicketField]  # key -> field
    unconfirmed: Mapping[str, str] = field(default_factory=dict)


class HelpdeskAdapter(Protocol):
    key: str
    dry_run: bool

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str, now: float,
               tolerance_seconds: int) -> None: ...

    def parse(self, payload: object): ...  # -> InboundEvent | IgnoredEvent

    def fetch_ticket(self, external_id: str) -> Ticket: ...

    def apply(self, external_id: str, route: Route) -> dict: ...

    def history(self, since: datetime, cursor: str | None = None) -> Iterator[HistoryPage]: ...

    def catalog(self) -> Catalog: ...


@dataclass(frozen=True)
class ReviewPost:
    channel: str | None
    ts: str | None


class ReviewNotifier(Protocol):
    def post_review(self, external_id: str, helpdesk: str, ticket: Ticket, prediction: Prediction) -> ReviewPost: ...


class WebhookMixin:
    """verify and parse an inbound delivery with the helpdesk's webhook module, `integrations.<key>.webhook`
    (no API access needed, so dry-run adapters receive webhooks too)."""

    key: str

    @property
    def _webhook(self):
        return import_module(f"integrations.{self.key}.webhook")

    def verify(self, headers: Mapping[str, str], raw_body: bytes, secret: str, now: float,
               tolerance_seconds: int) -> None:
        self._webhook.verify_delivery(headers, raw_body, secret, now, tolerance_seconds)

    def parse(self, payload: object):
        return self._webhook.parse(payload)


class DryRunHelpdesk(WebhookMixin):
    """No credentials for this helpdesk: writes nothing, returns what it would have written."""

    dry_run = True

    def __init__(self, key: str):
        self.key = key

    def fetch_ticket(self, external_id: str) -> Ticket:
        raise FetchUnavailable(f"{self.key} API is not configured (dry-run): cannot fetch ticket {external_id}")

    def apply(self, external_id: str, route: Route) -> dict:
        return {"dry_run": True, "ticket": external_id, "would_write": route.to_dict()}

    def history(self, since: datetime, cursor: str | None = None) -> Iterator[HistoryPage]:
        raise FetchUnavailable(f"{self.key} API is not configured (dry-run): cannot read history")

    def catalog(self) -> Catalog:
        raise FetchUnavailable(f"{self.key} API is not configured (dry-run): cannot list groups and agents")


class StoreReviewQueue:
    """No Slack: review tickets stay in the store's review queue (the admin page shows them)."""

    def post_review(self, external_id: str, helpdesk: str, ticket: Ticket, prediction: Prediction) -> ReviewPost:
        return ReviewPost(channel=None, ts=None)
