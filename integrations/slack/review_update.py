"""After a review was resolved outside Slack (the admin page), replace its Slack message's buttons with who
routed it, as a click would (`chat.update` on the stored channel and ts, with `resolved_message`).

The message is rebuilt from the store with the same `review_message` that posted it, so no Slack read is
needed. Best effort: the route is already recorded, so a Slack failure is logged and nothing else; a later
click on the old buttons is told who routed the ticket.
"""
from __future__ import annotations

import logging

from slack_sdk import WebClient

from integrations.slack import slack_configured
from integrations.slack.clicks import ADMIN_USER, review_prediction
from integrations.slack.client import Retrying, make_client
from integrations.slack.messages import assignment_outcome, escape, resolved_message, review_message
from store.models import ReviewMessage, TicketRecord

log = logging.getLogger(__name__)


def admin_outcome(category: str | None, operator: str | None = None) -> str:
    """Who did it, by the name they signed in with (the shared `TRIAGE_ADMIN_TOKEN` is "An admin")."""
    who = escape(operator) if operator and operator != ADMIN_USER else "An admin"
    if category is None:
        return f":raising_hand: {who} left this to the agents (triage's admin page)."
    return f":white_check_mark: {who} routed this to *{escape(category)}* on triage's admin page."


def update_resolved_review(runtime, review_id: int, category: str | None, client: WebClient | None = None,
                           retrying: Retrying | None = None, assignment: dict | None = None) -> bool:
    """True when Slack took the update; False when there is no message, Slack is off, or Slack failed."""
    from store.ticket_records import prediction_from_record, ticket_from_record

    settings = runtime.settings
    if client is None and not slack_configured(settings):
        log.info("review message not updated: Slack is not configured", extra={"review_id": review_id})
        return False
    with runtime.store.session() as session:
        message = session.get(ReviewMessage, review_id)
        if message is None or not (message.channel and message.ts):
            return False
        ticket = session.get(TicketRecord, message.ticket_id)
        prediction = review_prediction(session, message)
        channel, ts, helpdesk, external_id = message.channel, message.ts, ticket.helpdesk, ticket.external_id
        operator = message.resolved_by
        posted = review_message(external_id, helpdesk, ticket_from_record(ticket),
                                prediction_from_record(prediction), settings) if prediction else {"blocks": []}
    client = client or make_client(settings)
    name = f"{helpdesk.capitalize()} ticket #{escape(external_id)}"
    by = escape(operator) if operator and operator != ADMIN_USER else "an admin"
    text = f"{name}: routed to {escape(category)} by {by}" if category else f"{name}: left to the agents"
    outcome = admin_outcome(category, operator)
    if assigned := assignment_outcome(assignment):  # who got the ticket by a rule, and why
        outcome = f"{outcome}\n{assigned}"
    update = resolved_message(posted["blocks"], text, outcome)
    try:
        (retrying or Retrying(attempts=3, max_wait=5.0)).call(
            "chat.update", lambda: client.chat_update(channel=channel, ts=ts, **update))
    except Exception as exc:
        log.warning("could not update the review message", extra={"channel": channel, "message_ts": ts,
                                                                   "error": str(exc)})
        return False
    return True

