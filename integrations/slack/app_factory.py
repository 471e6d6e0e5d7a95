"""The slack-bolt `App` for review clicks, built per process from the runtime (never a module-level app).

`webhooks.slack_events` checks every request's signature (`SLACK_SIGNING_SECRET`) and shape before bolt
sees it, so bolt's own verification is off here. A click is acknowledged at once and handled in a lazy
listener (a bolt background thread): the reviewer check, the store, `chat.update` and the helpdesk call
all happen after Slack has its answer.
"""
from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from integrations.slack.client import Retrying, make_client
from integrations.slack.clicks import ROUTED, LEFT, ClickRecorder
from integrations.slack.messages import (ACTION_LEAVE, ACTION_ROUTE_PREFIX, assignment_outcome, escape, left_outcome,
                                         parse_block_id, resolved_message, routed_outcome)
from integrations.slack.reviewers import Reviewers
from store.assignments import written_assignment
from integrations.corrections import RetryPolicy, apply_pending_corrections

log = logging.getLogger(__name__)


def build_slack_app(runtime, client: WebClient | None = None, reviewers: Reviewers | None = None,
                    retrying: Retrying | None = None) -> App:
    """`client` defaults to one on `SLACK_API_URL`; tests hand in their own. No Slack call happens here."""
    settings = runtime.settings
    client = client or make_client(settings)
    app = App(client=client, signing_secret=settings.slack_signing_secret, token_verification_enabled=False,
              request_verification_enabled=False,  # web.verified_body checked it, timestamp header included
              logger=logging.getLogger("triage.slack.bolt"),
              # bolt's default pool size; the runtime waits for a click being handled before it closes
              listener_executor=runtime.background.pool("slack-click", max_workers=5))
    flow = ClickFlow(runtime, reviewers or Reviewers(settings.slack_reviewers, client),
                     retrying or Retrying(attempts=3, max_wait=5.0))
    app.action(re.compile(f"^{ACTION_ROUTE_PREFIX}_"))(ack=acknowledge, lazy=[flow.on_route])
    app.action(ACTION_LEAVE)(ack=acknowledge, lazy=[flow.on_leave])
    return app


def acknowledge(ack) -> None:
    ack()


def _field(body: dict, part: str, name: str) -> str | None:
    """`body[part][name]` if it is a non-empty string, else None: a click's body is read, never trusted."""
    inner = body.get(part)
    value = inner.get(name) if isinstance(inner, dict) else None
    return value if isinstance(value, str) and value else None


def _posted_blocks(body: dict) -> list[dict]:
    message = body.get("message")
    blocks = message.get("blocks") if isinstance(message, dict) else None
    return [block for block in blocks if isinstance(block, dict)] if isinstance(blocks, list) else []


class ClickFlow:
    """What happens after the ack: who may click, record the click, update the message, write the route."""

    def __init__(self, runtime, reviewers: Reviewers, retrying: Retrying):
        self.runtime, self.reviewers, self.retrying = runtime, reviewers, retrying
        self.recorder = ClickRecorder(runtime.store, runtime.routing, runtime.pipeline.helpdesks)

    def on_route(self, body: dict, action: dict, client: WebClient) -> None:
        chosen = action.get("selected_option")
        category = action.get("value") or (chosen.get("value") if isinstance(chosen, dict) else None)
        self.handle(body, action, client, category if isinstance(category, str) else None)

    def on_leave(self, body: dict, action: dict, client: WebClient) -> None:
        self.handle(body, action, client, None)

    def handle(self, body: dict, action: dict, client: WebClient, category: str | None) -> None:
        user = _field(body, "user", "id")
        channel = _field(body, "container", "channel_id") or _field(body, "channel", "id")
        ts = _field(body, "container", "message_ts") or _field(body, "message", "ts")
        block_id = action.get("block_id")
        if not (user and channel and ts and isinstance(block_id, str)):  # nothing to record or to update
            log.warning("click without its user, message or block; ignored", extra={"user": user, "channel": channel})
            return
        try:
            helpdesk, external_id = parse_block_id(block_id)
        except ValueError:
            log.warning("click on a block that is not ours", extra={"block_id": block_id[:100]})
            return
        if not self.reviewers.allows(user):
            log.info("click refused", extra={"user": user, "ticket": external_id})
            self._ephemeral(client, channel, user, "Only the reviewers set in triage's `SLACK_REVIEWERS` "
                                                   f"({self.reviewers.describe()}) may route tickets; nothing changed.")
            return
        result = self.recorder.click(helpdesk, external_id, user, category)
        if result.outcome not in (ROUTED, LEFT):
            self._ephemeral(client, channel, user, result.detail)
            return
        outcome = routed_outcome(user, category) if result.outcome == ROUTED else left_outcome(user)
        name = f"{helpdesk.capitalize()} ticket #{escape(external_id)}"
        text = f"{name}: routed to {escape(category)} by <@{user}>" if category else f"{name}: left to the agents"
        blocks = _posted_blocks(body)
        self._update(client, channel, ts, resolved_message(blocks, text, outcome))  # at once, whatever the helpdesk
        if result.write_back_id is not None:
            apply_pending_corrections(self.runtime.store, self.runtime.pipeline.helpdesks,
                                      RetryPolicy.from_settings(self.runtime.settings), only_id=result.write_back_id)
            with self.runtime.store.session() as session:
                assigned = assignment_outcome(written_assignment(session, result.write_back_id))
            if assigned:  # a rule chose the assignee: say who got the ticket and why
                self._update(client, channel, ts, resolved_message(blocks, text, f"{outcome}\n{assigned}"))

    def _update(self, client: WebClient, channel: str, ts: str, message: dict) -> None:
        """The click is already recorded; if Slack fails here the buttons stay, and a later click is told."""
        try:
            self.retrying.call("chat.update", lambda: client.chat_update(channel=channel, ts=ts, **message))
        except Exception as exc:
            log.warning("could not update the review message", extra={"channel": channel, "message_ts": ts,
                                                                       "error": str(exc)})

    def _ephemeral(self, client: WebClient, channel: str, user: str, text: str) -> None:
        try:
            self.retrying.call("chat.postEphemeral",
                               lambda: client.chat_postEphemeral(channel=channel, user=user, text=text))
        except Exception as exc:
            log.warning("could not tell the clicker", extra={"user": user, "error": str(exc)})
