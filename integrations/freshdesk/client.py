"""Freshdesk API v2 over requests: basic auth with the API key as user and "X" as password, JSON in and
out, pagination by `page` with the next page in the `Link: <...>; rel="next"` header.

Every call goes through `GuardedSession` (FRESHDESK_API_URL override, circuit breaker, budget, error
translation). Freshdesk's per-minute limits depend on the plan (Growth: 200 calls a minute, of which 80
ticket updates); the budgets below keep ticket writes under the smallest paid plan's update limit, and the
team reads of assignment by load (a group, the agent list, ticket searches) to 60 a minute, so a burst of
load reads can never eat the account limit that write-backs need (80 + 60 of Growth's 200).
"""
from __future__ import annotations

from typing import Iterator
from urllib.parse import urlsplit

import requests

from config.settings import Settings
from integrations.circuit import CircuitBreaker
from integrations.errors import UnexpectedAnswer
from integrations.http_session import Budget, GuardedSession
from store.database import Store
from store.rate_budget import BudgetRule, StoreTokenBucket

HELPDESK = "freshdesk"
TICKET_WRITES_PER_MINUTE = 80
# TRIAGE_ASSIGNMENT_READS_PER_MINUTE: half of it may go at once, so a group's first read (its members,
# their availability and one count per agent) does not wait out a trickle


def is_ticket_write(method: str, path: str) -> bool:
    return method in ("PUT", "POST", "DELETE") and path.startswith("/api/v2/tickets")


def is_team_read(method: str, path: str) -> bool:
    """The reads behind assignment by load (integrations/freshdesk/team.py)."""
    return method == "GET" and (path.startswith("/api/v2/search/") or path == "/api/v2/agents"
                                or (path.startswith("/api/v2/groups/") and path.count("/") == 4))


class FreshdeskClient:
    def __init__(self, session: GuardedSession, base_url: str):
        self.session, self.base_url = session, base_url.rstrip("/")

    def get(self, path: str, **params) -> object:
        return _json(self.session.get(self.base_url + path, params=params or None))

    def put(self, path: str, body: dict) -> object:
        return _json(self.session.put(self.base_url + path, json=body))

    def post(self, path: str, body: dict) -> object:
        return _json(self.session.post(self.base_url + path, json=body))

    def page(self, path_or_url: str, strict: bool = False, **params) -> tuple[list, str | None]:
        """One page of a list and the URL of the next one (None on the last page). `strict`: an answer
        that is not a list raises UnexpectedAnswer naming the endpoint (else it reads as an empty page)."""
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        response = self.session.get(url, params=params or None)
        items = _json(response)
        if strict and not isinstance(items, list):
            raise UnexpectedAnswer(HELPDESK, f"GET {urlsplit(url).path}", f"not a list ({_kind(items)})")
        return (items if isinstance(items, list) else []), response.links.get("next", {}).get("url")

    def all(self, path: str, strict: bool = False, **params) -> Iterator[dict]:
        url: str | None = path
        params.setdefault("per_page", 100)
        while url:
            items, url = self.page(url, strict=strict, **params)
            params = {}
            yield from items


def _json(response: requests.Response) -> object:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:  # a proxy's HTML page, JSON cut short
        kind = (response.headers.get("Content-Type") or "no content type").split(";")[0]
        raise UnexpectedAnswer(HELPDESK, endpoint(response),
                               f"not JSON ({kind}, {len(response.content)} bytes)") from None


def endpoint(response: requests.Response) -> str:
    """"GET /api/v2/groups": how an error names the call that got this answer."""
    return f"{response.request.method} {urlsplit(response.request.url).path}"


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return f"an object with {', '.join(sorted(value)[:8]) or 'no keys'}"
    return "nothing" if value is None else type(value).__name__


def build_client(settings: Settings, store: Store, writes_per_minute: int = TICKET_WRITES_PER_MINUTE,
                 period: float = 60.0, breaker: CircuitBreaker | None = None,
                 team_reads_per_minute: int | None = None) -> FreshdeskClient:
    base_url = (settings.freshdesk_api_url or f"https://{settings.freshdesk_domain}.freshdesk.com").rstrip("/")
    rule = BudgetRule(f"{HELPDESK}:ticket_writes", writes_per_minute, period)
    reads_limit = team_reads_per_minute or settings.triage_assignment_reads_per_minute
    reads = BudgetRule(f"{HELPDESK}:team_reads", reads_limit, period, burst_size=reads_limit // 2)
    session = GuardedSession(HELPDESK, breaker or CircuitBreaker(HELPDESK),
                             [Budget(is_ticket_write, StoreTokenBucket(store, rule)),
                              Budget(is_team_read, StoreTokenBucket(store, reads))],
                             probe_url=f"{base_url}/api/v2/agents/me")
    session.auth = (settings.freshdesk_api_key, "X")
    session.headers["Content-Type"] = "application/json"
    return FreshdeskClient(session, base_url)
