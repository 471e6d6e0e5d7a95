"""A zenpy client that never blocks on a rate limit, honours ZENDESK_API_URL, and spends the account budget.

zenpy sleeps out a 429's Retry-After by default (and with `proactive_ratelimit` even before one); we pass
neither `proactive_ratelimit` nor a positive `ratelimit_budget`, and our session answers a 429 with
`RateLimited` before zenpy's sleep loop can run. zenpy builds `https://{subdomain}.zendesk.com/api/v2/...`;
with ZENDESK_API_URL the session sends that prefix to the override instead (tests, proxies).
"""
from __future__ import annotations

from zenpy import Zenpy

from config.settings import Settings
from integrations.circuit import CircuitBreaker
from integrations.http_session import Budget, GuardedSession
from store.database import Store
from store.rate_budget import BudgetRule, StoreTokenBucket

HELPDESK = "zendesk"
PLACEHOLDER_SUBDOMAIN = "triage"  # zenpy insists on a subdomain; with only ZENDESK_API_URL we rebase this one
TICKET_UPDATES_PER_MINUTE = 100  # Zendesk: "Update Ticket" is limited to 100 requests a minute per account


def is_ticket_write(method: str, path: str) -> bool:
    return method in ("PUT", "POST", "DELETE") and path.startswith("/api/v2/tickets")


def build_zenpy(settings: Settings, store: Store, updates_per_minute: int = TICKET_UPDATES_PER_MINUTE,
                period: float = 60.0, breaker: CircuitBreaker | None = None) -> Zenpy:
    subdomain = settings.zendesk_subdomain or PLACEHOLDER_SUBDOMAIN
    canonical = f"https://{subdomain}.zendesk.com"
    rebase = (canonical, settings.zendesk_api_url.rstrip("/")) if settings.zendesk_api_url else None
    rule = BudgetRule(f"{HELPDESK}:ticket_updates", updates_per_minute, period)
    session = GuardedSession(
        HELPDESK, breaker or CircuitBreaker(HELPDESK), [Budget(is_ticket_write, StoreTokenBucket(store, rule))],
        probe_url=f"{canonical}/api/v2/users/me.json", rebase=rebase,
    )
    return Zenpy(subdomain=subdomain, email=settings.zendesk_email, token=settings.zendesk_api_token,
                 session=session, disable_cache=True, ratelimit_budget=0)
