"""The shipped Slack app manifest asks for every scope our code needs, and points at /slack/events."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
# every Web API method the Slack code calls, and the bot scope it needs
SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "conversations_history": {"channels:history", "groups:history"},
    "usergroups_users_list": {"usergroups:read"},
    "auth_test": set(),  # the circuit breaker's probe: needs no scope
}


def manifest() -> dict:
    return yaml.safe_load((REPO / "config" / "slack-manifest.yml").read_text())


def test_interactivity_is_on_and_posts_to_slack_events():
    interactivity = manifest()["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert urlsplit(interactivity["request_url"]).path == "/slack/events"
    assert manifest()["settings"]["socket_mode_enabled"] is False


def test_every_method_the_code_calls_has_its_scope_in_the_manifest():
    source = "\n".join(p.read_text() for p in (REPO / "integrations" / "slack").glob("*.py"))
    called = set(re.findall(r"client\.([a-z]+_[A-Za-z_]+)\(", source))
    assert called, "no Web API call found: has the code moved?"
    assert called <= SCOPES.keys(), f"add the scope of {called - SCOPES.keys()} here and to the manifest"
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    for method in called:
        assert SCOPES[method] <= granted, method
