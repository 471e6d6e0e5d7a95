"""Which failures are a vendor's outage rather than the ticket's fault.

A helpdesk or Slack answering 5xx, timing out or refusing connections says nothing about the ticket: the
delivery is deferred and tried again later without spending one of its attempts (only a failure that may
be the ticket's own counts towards dead-lettering). Each vendor's circuit breaker still stops the calls
while the outage lasts, so a backlog does not hammer a vendor that is down.
"""
from __future__ import annotations

import http.client
from urllib.error import URLError

import requests
from slack_sdk.errors import SlackApiError

from integrations.errors import Unavailable

OUTAGE_RETRY_SECONDS = 20.0  # the next try after an outage, unless the vendor said when (Retry-After)
_TRANSPORT_ERRORS = (URLError, TimeoutError, ConnectionError, http.client.HTTPException,
                     requests.ConnectionError, requests.Timeout)


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, Unavailable):  # helpdesk 5xx, timeout or connection error (integrations.http_session)
        return True
    if isinstance(exc, SlackApiError):
        return getattr(exc.response, "status_code", 0) >= 500
    return isinstance(exc, _TRANSPORT_ERRORS)


def retry_after(exc: BaseException) -> float:
    """When to try again after an outage: the vendor's Retry-After if it sent one, else `OUTAGE_RETRY_SECONDS`."""
    given = getattr(exc, "retry_after", None)
    return float(given) if given else OUTAGE_RETRY_SECONDS
