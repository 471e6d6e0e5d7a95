"""Test helpers for Slack: signed interaction requests built from a posted message, and a seeded review.

A click is built from the message the fake Slack recorded, using the posted element's own `action_id`,
`value` and `block_id`, and signed with slack_sdk's `SignatureVerifier`, as Slack would send it.
"""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from fake_slack import TEAM

SIGNING_SECRET = "slack-test-signing-secret"


def signed_headers(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature}


def element(message: dict, action_id: str) -> tuple[str, dict]:
    """(block_id, element) of the posted message's interactive element with this action id."""
    for block in message["blocks"]:
        for item in block.get("elements", []) if block["type"] == "actions" else []:
            if item["action_id"] == action_id:
                return block["block_id"], item
    raise AssertionError(f"no element {action_id!r} in the posted message")


def block_actions(message: dict, channel: str, action_id: str, user: str = "U0ALICE",
                  option: str | None = None) -> dict:
    """The `block_actions` payload Slack sends when `user` uses an element of a posted message."""
    block_id, item = element(message, action_id)
    action = {"type": item["type"], "action_id": action_id, "block_id": block_id, "action_ts": f"{time.time():.6f}"}
    if item["type"] == "static_select":
        chosen = next(o for o in item["options"] if o["value"] == option)
        action["selected_option"] = chosen
    else:
        action.update(value=item["value"], text=item["text"])
    return {
        "type": "block_actions", "api_app_id": "A0TRIAGE", "token": "legacy-verification-token",
        "team": {"id": TEAM, "domain": "test"}, "enterprise": None, "is_enterprise_install": False,
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "triage-review"},
        "message": message, "trigger_id": "1.2.3", "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [action],
    }


def post_interaction(client, payload: dict, secret: str = SIGNING_SECRET, timestamp: int | None = None):
    body = urlencode({"payload": json.dumps(payload)})
    return client.post("/slack/events", data=body, headers=signed_headers(body, secret, timestamp))
