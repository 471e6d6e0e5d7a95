"""The Slack Web API client and our retry rule for it.

`SLACK_API_URL` points the real `WebClient` elsewhere (tests use a local fake). Calls are retried in the
worker with backoff: on 429 after Slack's `Retry-After`, on 5xx and connection errors after base * 2**n.
A wait longer than `max_wait`, or beyond `budget_seconds` in all, is not slept through: `SlackRateLimited`
(or the last error) goes up to the pipeline, which tries again later from its own retry schedule. The
budget keeps a worker's post well inside its delivery lease, so no second worker posts meanwhile.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from integrations.errors import RateLimited, parse_retry_after

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_RETRY_AFTER = 30.0  # a 429 without a usable Retry-After header (Slack always sends one)
TIMEOUT_SECONDS = 10


class SlackRateLimited(RateLimited):
    """Slack said 429 and wants a longer pause than we sleep in a worker; try again after `retry_after` s.

    A `RateLimited`, so the pipeline defers the delivery past it without spending an attempt."""

    def __init__(self, method: str, retry_after: float):
        super().__init__("slack", f"{method}: rate limited", retry_after, status=429)


def make_client(settings) -> WebClient:
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    return WebClient(token=settings.slack_bot_token, base_url=base_url, timeout=TIMEOUT_SECONDS,
                     logger=logging.getLogger("triage.slack.sdk"))


def retry_after_seconds(headers) -> float:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            return parse_retry_after(value[0] if isinstance(value, list) else value, DEFAULT_RETRY_AFTER)
    return DEFAULT_RETRY_AFTER


class Retrying:
    """Runs one Web API call with retries; `sleep` is injectable so tests need not wait."""

    def __init__(self, attempts: int = 4, base_seconds: float = 1.0, max_wait: float = 10.0,
                 budget_seconds: float = 20.0, sleep: Callable[[float], None] = time.sleep):
        self.attempts, self.base_seconds, self.max_wait = attempts, base_seconds, max_wait
        self.budget_seconds, self.sleep = budget_seconds, sleep

    def call(self, method: str, call: Callable[[], T]) -> T:
        """`budget_seconds` caps the time slept for one call: a worker must finish well within its lease."""
        slept = 0.0
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                return call()
            except SlackApiError as exc:
                status = exc.response.status_code
                if status == 429:
                    wait = retry_after_seconds(exc.response.headers)
                    if last or wait > self.max_wait or slept + wait > self.budget_seconds:
                        raise SlackRateLimited(method, wait) from None
                elif status >= 500:
                    wait = self._backoff(attempt)
                    if last or slept + wait > self.budget_seconds:
                        raise
                else:
                    raise  # a permanent answer (bad channel, missing scope, ...): retrying cannot help
            except (URLError, TimeoutError, ConnectionError) as exc:
                wait = self._backoff(attempt)
                if last or slept + wait > self.budget_seconds:
                    raise
                log.info("slack call failed, retrying", extra={"method": method, "error": str(exc)})
            log.info("slack call retried", extra={"method": method, "attempt": attempt, "wait_seconds": wait})
            self.sleep(wait)
            slept += wait
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.base_seconds * 2 ** (attempt - 1))
