"""Do the helpdesk and Slack credentials work? One cheap authenticated read each, for `/readyz`:
Zendesk `GET /api/v2/users/me.json`, Freshdesk `GET /api/v2/agents/me`, Slack `auth.test`, through the
clients the workers use (so ZENDESK_API_URL, FRESHDESK_API_URL and SLACK_API_URL apply), each with a
short timeout, the answers cached per process so a load balancer polling every second costs one call a minute.

A rejected credential or a wrong address makes the service not ready: nothing it writes back would land.
A vendor that does not answer (timeout, 5xx, rate limit) is reported but leaves the service ready: the
deliveries are stored and retried, and one vendor's outage must not take every instance out of service.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.error import URLError

from integrations.errors import AuthFailed, HelpdeskError, NotFound, RateLimited, Unavailable

TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 60.0
HINTS = {  # what to check when the vendor refuses us (auth) or does not know the address (not found)
    "zendesk": ("ZENDESK_EMAIL / ZENDESK_API_TOKEN", "ZENDESK_SUBDOMAIN / ZENDESK_API_URL"),
    "freshdesk": ("FRESHDESK_API_KEY", "FRESHDESK_DOMAIN / FRESHDESK_API_URL"),
}
SLACK_AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}


@dataclass(frozen=True)
class CredentialCheck:
    ready: bool  # False: the service cannot do its job with these settings
    detail: str  # "ok", "failed: ..." (not ready) or "unreachable: ..." (still ready)


OK = CredentialCheck(True, "ok")


def _failed(text: str) -> CredentialCheck:
    return CredentialCheck(False, f"failed: {text}")


def _unreachable(text: str) -> CredentialCheck:
    return CredentialCheck(True, f"unreachable: {text} (deliveries wait and are retried)")


def check_zendesk(settings, store) -> CredentialCheck:
    from integrations.zendesk.client import build_zenpy

    client = build_zenpy(settings, store)
    session = client.users.session  # our GuardedSession: base-URL override, error translation
    session.timeout = (TIMEOUT_SECONDS, TIMEOUT_SECONDS)
    try:
        return _helpdesk_answer("zendesk", client.users.me)
    finally:
        session.close()


def check_freshdesk(settings, store) -> CredentialCheck:
    from integrations.freshdesk.client import build_client

    client = build_client(settings, store)
    client.session.timeout = (TIMEOUT_SECONDS, TIMEOUT_SECONDS)
    try:
        return _helpdesk_answer("freshdesk", lambda: client.get("/api/v2/agents/me"))
    finally:
        client.session.close()


def _helpdesk_answer(helpdesk: str, call: Callable[[], object]) -> CredentialCheck:
    auth_hint, address_hint = HINTS[helpdesk]
    try:
        call()
    except AuthFailed as exc:
        return _failed(f"{helpdesk} answered {exc.status} (check {auth_hint})")
    except NotFound as exc:
        return _failed(f"{helpdesk} answered {exc.status}: no such account or API (check {address_hint})")
    except (Unavailable, RateLimited) as exc:
        return _unreachable(f"{helpdesk}: {exc.detail}")
    except HelpdeskError as exc:
        return _failed(f"{helpdesk}: {exc.detail}")
    except Exception as exc:  # an answer that is not the vendor's API (a proxy's page, say)
        return _failed(f"{helpdesk} answered something unexpected ({type(exc).__name__}; check {address_hint})")
    return OK


def check_slack(settings) -> CredentialCheck:
    from slack_sdk.errors import SlackApiError

    from integrations.slack.client import make_client

    client = make_client(settings)
    client.timeout, client.retry_handlers = int(TIMEOUT_SECONDS), []  # one try: the next poll is the retry
    try:
        client.auth_test()
    except SlackApiError as exc:
        data = exc.response.data
        status, error = exc.response.status_code, data.get("error") if isinstance(data, dict) else None
        if status == 429 or status >= 500:
            return _unreachable(f"slack answered HTTP {status}")
        if error in SLACK_AUTH_ERRORS:
            return _failed(f"slack answered {error} (check SLACK_BOT_TOKEN)")
        return _failed(f"slack answered {error or f'HTTP {status}'} (check SLACK_BOT_TOKEN / SLACK_API_URL)")
    except (URLError, TimeoutError, ConnectionError, OSError) as exc:
        return _unreachable(f"slack: {type(exc).__name__} {getattr(exc, 'reason', '') or exc}".strip())
    except Exception as exc:  # an answer that is not Slack's Web API
        return _failed(f"slack answered something unexpected ({type(exc).__name__}; check SLACK_API_URL)")
    return OK


class CredentialChecks:
    """The configured checks (`helpdesk:<name>` for helpdesks with an API, `slack` when Slack is on), each
    run at most once per `ttl` seconds; a check never raises."""

    def __init__(self, settings, store, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic):
        from integrations.slack import slack_configured

        self._checks: dict[str, Callable[[], CredentialCheck]] = {}
        if settings.zendesk_enabled:
            self._checks["helpdesk:zendesk"] = lambda: check_zendesk(settings, store)
        if settings.freshdesk_enabled:
            self._checks["helpdesk:freshdesk"] = lambda: check_freshdesk(settings, store)
        if slack_configured(settings):
            self._checks["slack"] = lambda: check_slack(settings)
        self.ttl, self._clock = ttl, clock
        self._cache: dict[str, tuple[float, CredentialCheck]] = {}
        self._locks = {name: threading.Lock() for name in self._checks}

    def results(self) -> dict[str, CredentialCheck]:
        return {name: self._cached(name) for name in self._checks}

    def _cached(self, name: str) -> CredentialCheck:
        with self._locks[name]:  # one call at a time per check; the others wait for its answer
            checked = self._cache.get(name)
            if checked is None or self._clock() - checked[0] >= self.ttl:
                try:
                    result = self._checks[name]()
                except Exception as exc:  # building the client failed: say so, never raise
                    result = _failed(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
                checked = self._cache[name] = (self._clock(), result)
            return checked[1]
