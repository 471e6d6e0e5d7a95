"""A zenpy client that never blocks on a rate limit, honours ZENDESK_API_URL, and spends the account budget.

zenpy sleeps out a 429's Retry-After by default (and with `proactive_ratelimit` even before one); we pass
neither `proactive_ratelimit` nor a positive `ratelimit_budget`, and our session answers a 429 with
`RateLimited` before zenpy's sleep loop can run. zenpy builds `https://{subdomain}.zendesk.com/api/v2/...`;
with ZENDESK_API_URL the session sends that prefix to the override instead (tests, proxies).

Two budgets per account: ticket updates (Zendesk's own "Update Ticket" limit), and the team reads of
assignment by load (memberships, users, availabilities, search counts), so a burst of load reads can never
eat the account limit that write-backs need. The smallest plan (Team) allows 200 requests a minute for the
whole account; ticket updates may take 100 of them, team reads 60, leaving the rest for ticket reads.
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
# TRIAGE_ASSIGNMENT_READS_PER_MINUTE: half of it may go at once, so a group's first read (its members,
# their availability and one count per agent) does not wait out a trickle
TEAM_READ_PREFIXES = ("/api/v2/search", "/api/v2/agent_availabilities", "/api/v2/users/show_many")


def is_ticket_write(method: str, path: str) -> bool:
    return method in ("PUT", "POST", "DELETE") and path.startswith("/api/v2/tickets")


def is_team_read(method: str, path: str) -> bool:
    """The reads behind assignment by load (integrations/zendesk/team.py)."""
    return method == "GET" and (path.startswith(TEAM_READ_PREFIXES)
                                or (path.startswith("/api/v2/groups/") and "/memberships" in path))


def build_zenpy(settings: Settings, store: Store, updates_per_minute: int = TICKET_UPDATES_PER_MINUTE,
                period: float = 60.0, breaker: CircuitBreaker | None = None,
                team_reads_per_minute: int | None = None) -> Zenpy:
    subdomain = settings.zendesk_subdomain or PLACEHOLDER_SUBDOMAIN
    canonical = f"https://{subdomain}.zendesk.com"
    rebase = (canonical, settings.zendesk_api_url.rstrip("/")) if settings.zendesk_api_url else None
    rule = BudgetRule(f"{HELPDESK}:ticket_updates", updates_per_minute, period)
    reads_limit = team_reads_per_minute or settings.triage_assignment_reads_per_minute
    reads = BudgetRule(f"{HELPDESK}:team_reads", reads_limit, period, burst_size=reads_limit // 2)
    session = GuardedSession(
        HELPDESK, breaker or CircuitBreaker(HELPDESK),
        [Budget(is_ticket_write, StoreTokenBucket(store, rule)), Budget(is_team_read, StoreTokenBucket(store, reads))],
        probe_url=f"{canonical}/api/v2/users/me.json", rebase=rebase,
    )
    return Zenpy(subdomain=subdomain, email=settings.zendesk_email, token=settings.zendesk_api_token,
                 session=session, disable_cache=True, ratelimit_budget=0)
