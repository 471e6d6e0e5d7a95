"""Settings for an app under test: real store, both helpdesks' webhook secrets, the bundled model."""
from __future__ import annotations

from pathlib import Path

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers

REPO = Path(__file__).resolve().parent.parent
ZENDESK_SECRET = "zendesk-test-signing-secret"
FRESHDESK_SECRET = "freshdesk-test-shared-secret"


def app_settings(database_url: str, **more) -> dict:
    return {
        "database_url": database_url,
        "zendesk_webhook_secret": ZENDESK_SECRET,
        "freshdesk_webhook_secret": FRESHDESK_SECRET,
        "triage_routing_file": REPO / "config" / "routing.toml",
        "triage_starter_model": REPO / "models" / "starter",
        **more,
    }


def post_zendesk(client, body: bytes, secret: str = ZENDESK_SECRET, **kwargs):
    """POST `body` to the Zendesk receiver, signed as Zendesk signs (kwargs: the signature timestamp)."""
    headers = {"Content-Type": "application/json", **zendesk_signed_headers(secret, body, **kwargs)}
    return client.post("/webhooks/zendesk", data=body, headers=headers)


def post_freshdesk(client, body: bytes, secret: str = FRESHDESK_SECRET):
    headers = {"Content-Type": "application/json", **freshdesk_headers(secret)}
    return client.post("/webhooks/freshdesk", data=body, headers=headers)
