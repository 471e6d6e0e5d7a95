"""Our few helpdesk error types. Each vendor module translates its client's errors into these, in one place
(`integrations/zendesk/errors.py`, `integrations/freshdesk/errors.py`); nothing else looks at vendor errors.

- `RateLimited`: 429, our own per-account budget, or an open circuit breaker. Try again after `retry_after`
  seconds; the delivery is deferred, it does not count as a failed attempt.
- `Unavailable`: 5xx, timeout, connection refused. Transient: retried with backoff (and it feeds the breaker).
  `UnexpectedAnswer` is one: a 2xx answer of the wrong shape, naming the endpoint.
- `Conflict`: 409 (Zendesk safe_update lost the race). Transient: re-read and retry.
- `AuthFailed`, `NotFound`, `Rejected`: permanent; retrying cannot help, the delivery is dead-lettered at once.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

DEFAULT_RETRY_AFTER = 60.0  # a 429 without a usable Retry-After header


class HelpdeskError(Exception):
    permanent = False

    def __init__(self, helpdesk: str, detail: str, status: int | None = None):
        super().__init__(f"{helpdesk}: {detail}")
        self.helpdesk, self.detail, self.status = helpdesk, detail, status


class AuthFailed(HelpdeskError):
    permanent = True


class NotFound(HelpdeskError):
    permanent = True


class Rejected(HelpdeskError):
    """The helpdesk refused what we sent (400/422), e.g. a group or field value that does not exist."""

    permanent = True


class Conflict(HelpdeskError):
    """Someone changed the ticket between our read and our write."""


class Unavailable(HelpdeskError):
    """5xx, timeout or connection error: the helpdesk is (briefly) not answering."""

    def __init__(self, helpdesk: str, detail: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(helpdesk, detail, status)
        self.retry_after = retry_after


class UnexpectedAnswer(Unavailable):
    """A 2xx answer that is not what the vendor documents (missing keys, `{}`, a proxy's HTML page, JSON cut
    short), named by its endpoint. Transient like a 5xx (a proxy in the way clears); a catalog read that gets
    one leaves that part unconfirmed, so the route skips what it cannot confirm and writes the rest."""

    def __init__(self, helpdesk: str, endpoint: str, what: str):
        super().__init__(helpdesk, f"unexpected answer from {endpoint}: {what}")
        self.endpoint = endpoint


class RateLimited(HelpdeskError):
    """Not now: try again in `retry_after` seconds (429, our budget, or the circuit breaker is open)."""

    def __init__(self, helpdesk: str, detail: str, retry_after: float, status: int | None = None):
        super().__init__(helpdesk, f"{detail} (retry after {retry_after:.1f} s)", status)
        self.retry_after = max(0.0, float(retry_after))


def failure_outcome(exc: Exception) -> str:
    """How a failed helpdesk or Slack call is counted: rate_limited (a 429, our budget, an open breaker: tried
    later), failed (permanent), else retry."""
    if isinstance(exc, RateLimited):
        return "rate_limited"
    return "failed" if getattr(exc, "permanent", False) else "retry"


def parse_retry_after(value: str | None, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Retry-After is delta-seconds or an HTTP date (RFC 9110); anything else means `default`."""
    if value is None or not str(value).strip():
        return default
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def from_status(helpdesk: str, status: int, detail: str, retry_after: str | None = None) -> HelpdeskError:
    """The error for an HTTP answer outside 2xx (both vendors use the same status codes for these)."""
    detail = f"HTTP {status}: {detail[:300]}"
    if status in (401, 403):
        return AuthFailed(helpdesk, detail, status)
    if status == 404:
        return NotFound(helpdesk, detail, status)
    if status == 409:
        return Conflict(helpdesk, detail, status)
    if status == 429:
        return RateLimited(helpdesk, detail, parse_retry_after(retry_after), status)
    if status >= 500:
        return Unavailable(helpdesk, detail, status, parse_retry_after(retry_after, 0.0) if retry_after else None)
    return Rejected(helpdesk, detail, status)
