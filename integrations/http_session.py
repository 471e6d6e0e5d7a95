"""The one HTTP session both helpdesk clients send through (zenpy is handed it as its `session`).

Every request passes, in order: the base-URL override (ZENDESK_API_URL / FRESHDESK_API_URL), the circuit
breaker, the per-account budgets, a timeout, and then the translation of every non-2xx answer, timeout and
connection error into `integrations.errors` (the one place vendor errors become ours). Raising here, before
zenpy sees a 429, is also what keeps zenpy from sleeping out a Retry-After: nothing in triage ever waits
for a helpdesk's rate limit inside a call; the delivery is deferred instead.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from integrations.circuit import CircuitBreaker
from integrations.errors import RateLimited, Unavailable, from_status

DEFAULT_TIMEOUT = (5.0, 15.0)  # connect, read: two calls of a ticket stay inside TRIAGE_TICKET_TIME_LIMIT_SECONDS
MAX_BUDGET_WAIT = 2.0  # wait in the worker for a token at most this long, else defer the delivery


@dataclass(frozen=True)
class Budget:
    applies: Callable[[str, str], bool]  # (method, path) -> does this call spend from the bucket?
    bucket: object  # has take() -> seconds to wait (0.0: granted); see store.rate_budget.StoreTokenBucket


class GuardedSession(requests.Session):
    def __init__(self, helpdesk: str, breaker: CircuitBreaker, budgets: list[Budget] = (), probe_url: str = "",
                 rebase: tuple[str, str] | None = None, timeout=DEFAULT_TIMEOUT, sleep=time.sleep):
        super().__init__()
        self.helpdesk, self.breaker, self.budgets = helpdesk, breaker, list(budgets)
        self.probe_url, self.timeout, self._sleep = probe_url, timeout, sleep
        self._rebase_from, self._rebase_to = rebase or ("", "")
        adapter = HTTPAdapter(max_retries=0, pool_maxsize=32)  # no transport retries: we retry whole deliveries
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        asked, url = url, self.rebase(url)
        self.breaker.before_call(self._probe)
        self._spend_budget(method.upper(), urlsplit(url).path)
        response = self._send(method, url, *args, **kwargs)
        if url != asked:  # zenpy recognises its answers by host name: show it the URL it asked for
            response.url = response.request.url = asked
        if not 200 <= response.status_code < 300:
            raise from_status(self.helpdesk, response.status_code, _detail(response),
                              response.headers.get("Retry-After"))
        return response

    def rebase(self, url: str) -> str:
        if self._rebase_from and url.startswith(self._rebase_from):
            return self._rebase_to + url[len(self._rebase_from):]
        return url

    def _send(self, method, url, *args, **kwargs) -> requests.Response:
        kwargs["timeout"] = self.timeout  # ours, not zenpy's 60 s: a stuck helpdesk must fail fast
        try:
            response = super().request(method, url, *args, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            self.breaker.record_failure()
            raise Unavailable(self.helpdesk, f"{type(exc).__name__} on {method} {urlsplit(url).path}") from None
        if response.status_code >= 500:
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
        return response

    def _probe(self) -> None:
        response = self._send("GET", self.rebase(self.probe_url))
        if response.status_code >= 500:
            raise Unavailable(self.helpdesk, f"probe answered HTTP {response.status_code}", response.status_code)

    def require_budget(self, method: str, path: str) -> None:
        """Before the reads that lead up to a write: give up at once (RateLimited) if the write would have
        to wait longer than we may, so a deferred delivery has not spent API calls on reads first."""
        for budget in self.budgets:
            if budget.applies(method, path) and (wait := budget.bucket.peek()) > MAX_BUDGET_WAIT:
                raise RateLimited(self.helpdesk, f"our budget {budget.bucket.rule.key} is spent", wait)

    def _spend_budget(self, method: str, path: str) -> None:
        for budget in self.budgets:
            if not budget.applies(method, path):
                continue
            waited = 0.0
            while (wait := budget.bucket.take()) > 0:
                if waited + wait > MAX_BUDGET_WAIT:
                    raise RateLimited(self.helpdesk, f"our budget {budget.bucket.rule.key} is spent", wait)
                self._sleep(wait)
                waited += wait


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason or ""
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("error", "description", "message", "details", "errors") if body.get(k)]
        return "; ".join(parts)[:300] or str(body)[:300]
    return str(body)[:300]
