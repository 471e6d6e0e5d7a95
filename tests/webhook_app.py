"""Settings for an app under test: real store, both helpdesks' webhook secrets, the bundled model."""
from __future__ import annotations

from pathlib import Path

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
