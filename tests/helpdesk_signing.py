"""Test helper: headers that Zendesk and Freshdesk would send, so tests can sign requests like them.

Imported as `from helpdesk_signing import ...` (tests/conftest.py puts tests/ on sys.path).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime, timezone


def zendesk_timestamp(at: float | None = None) -> str:
    """A signature timestamp as Zendesk writes it: ISO 8601 UTC to the second ("2021-10-26T20:45:15Z")."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_signed_headers(secret: str, body: bytes, timestamp: str | float | None = None) -> dict[str, str]:
    """Signature headers for `body`: base64(HMAC-SHA256(secret, timestamp + body)).

    `timestamp` may be the header text itself, or Unix seconds. Seconds given explicitly keep their
    fraction (so "301 s ago" stays more than 300 s ago); None means now, in Zendesk's own format.
    """
    if timestamp is None:
        stamp = zendesk_timestamp()
    elif isinstance(timestamp, str):
        stamp = timestamp
    else:
        moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
        stamp = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def freshdesk_headers(secret: str) -> dict[str, str]:
    """The custom header the admin adds to the Freshdesk automation rule's webhook action."""
    return {"X-Webhook-Secret": secret}
