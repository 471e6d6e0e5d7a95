"""Freshdesk API v2 over requests: basic auth with the API key as user and "X" as password, JSON in and
out, pagination by `page` with the next page in the `Link: <...>; rel="next"` header.

Every call goes through `GuardedSession` (FRESHDESK_API_URL override, circuit breaker, budget, error
translation). Freshdesk's per-minute limits depend on the plan (Growth: 200 calls a minute, of which 80
ticket updates); the budget below keeps ticket writes under the smallest paid plan's update limit.
"""
from __future__ import annotations

from typing import Iterator

import requests

from config.settings import Settings
from integrations.circuit import CircuitBreaker
from integrations.errors import Unavailable
from integrations.http_session import Budget, GuardedSession
from store.database import Store
from store.rate_budget import BudgetRule, StoreTokenBucket

HELPDESK = "freshdesk"
TICKET_WRITES_PER_MINUTE = 80


def is_ticket_write(method: str, path: str) -> bool:
    return method in ("PUT", "POST", "DELETE") and path.startswith("/api/v2/tickets")


class FreshdeskClient:
    def __init__(self, session: GuardedSession, base_url: str):
        self.session, self.base_url = session, base_url.rstrip("/")

    def get(self, path: str, **params) -> object:
        return _json(self.session.get(self.base_url + path, params=params or None))

    def put(self, path: str, body: dict) -> object:
        return _json(self.session.put(self.base_url + path, json=body))

    def post(self, path: str, body: dict) -> object:
        return _json(self.session.post(self.base_url + path, json=body))

    def page(self, path_or_url: str, **params) -> tuple[list, str | None]:
        """One page of a list and the URL of the next one (None on the last page)."""
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        response = self.session.get(url, params=params or None)
        items = _json(response)
        return (items if isinstance(items, list) else []), response.links.get("next", {}).get("url")

    def all(self, path: str, **params) -> Iterator[dict]:
        url: str | None = path
        params.setdefault("per_page", 100)
        while url:
            items, url = self.page(url, **params)
            params = {}
            yield from items


def _json(response: requests.Response) -> object:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise Unavailable(HELPDESK, f"unreadable answer from {response.request.path_url}") from None


def build_client(settings: Settings, store: Store, writes_per_minute: int = TICKET_WRITES_PER_MINUTE,
                 period: float = 60.0, breaker: CircuitBreaker | None = None) -> FreshdeskClient:
    base_url = (settings.freshdesk_api_url or f"https://{settings.freshdesk_domain}.freshdesk.com").rstrip("/")
    rule = BudgetRule(f"{HELPDESK}:ticket_writes", writes_per_minute, period)
    session = GuardedSession(HELPDESK, breaker or CircuitBreaker(HELPDESK),
                             [Budget(is_ticket_write, StoreTokenBucket(store, rule))],
                             probe_url=f"{base_url}/api/v2/agents/me")
    session.auth = (settings.freshdesk_api_key, "X")
    session.headers["Content-Type"] = "application/json"
    return FreshdeskClient(session, base_url)
