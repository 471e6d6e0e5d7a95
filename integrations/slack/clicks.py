"""A reviewer's click, recorded in the store: Slack plays no part here (the bolt listener calls this, and so
does the admin page's Route button, with source `admin`, so both record exactly the same).

The click wins with compare-and-set on the review message (`open` -> `resolved` | `left`), and in the
same transaction records the correction, the ticket's label and a pending correction write-back; the
helpdesk call happens afterwards (`integrations.corrections`), so a slow or down helpdesk never loses a click.
A second click, or a click on a ticket someone already routed in the helpdesk, changes nothing. The same
transaction adds an audit entry (`store.audit`) naming the clicker: the Slack user id, or the page's operator.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from config.routing import RoutingConfig
from integrations.route import TAG_PREFIX, build_route
from store import audit
from store.database import Store
from store.models import Correction, PredictionRecord, ReviewMessage, TicketRecord, WriteBack
from store.types import utcnow

log = logging.getLogger(__name__)
ROUTED, LEFT, ALREADY, UNKNOWN = "routed", "left", "already", "unknown"
SLACK, ADMIN = "slack", "admin"  # where a click came from: the correction's `source`
ADMIN_USER = "admin"  # the operator of TRIAGE_ADMIN_TOKEN; named tokens and the proxy give other names
# The ticket's `label_source` stays `slack` for both: the places that keep and count a reviewer's label
# (store/backfill.py, learning/live_window.py, learning/shadow.py) know `slack` and `helpdesk`.
REVIEW_LABEL_SOURCE = "slack"


@dataclass(frozen=True)
class ClickResult:
    outcome: str  # ROUTED | LEFT | ALREADY | UNKNOWN
    detail: str  # for the clicker (ephemeral) when nothing changed
    write_back_id: int | None = None


def routed_in_helpdesk(adapter, external_id: str) -> str | None:
    """Hook: who routed this ticket in the helpdesk itself, or None if nobody did (or we cannot tell).

    An adapter that can say implements `routed_by(external_id) -> str | None`. Otherwise, if it can fetch
    the ticket, a `triage_...` tag on it means the ticket was routed (an agent applied our routing).
    Dry-run adapters, and any error asking the helpdesk, answer None: the click then goes ahead.
    """
    if adapter is None or getattr(adapter, "dry_run", False):
        return None
    try:
        if hasattr(adapter, "routed_by"):
            return adapter.routed_by(external_id)
        ticket = adapter.fetch_ticket(external_id)
    except Exception as exc:
        log.info("cannot ask the helpdesk who routed the ticket", extra={"ticket": external_id, "error": str(exc)})
        return None
    if any(tag.startswith(TAG_PREFIX) for tag in ticket.tags):
        return f"an agent in {adapter.key.capitalize()}"
    return None


class ClickRecorder:
    def __init__(self, store: Store, routing: RoutingConfig, helpdesks: dict):
        self.store, self.routing, self.helpdesks = store, routing, helpdesks

    def click(self, helpdesk: str, external_id: str, user_id: str, category: str | None,
              source: str = SLACK) -> ClickResult:
        """Route the ticket to `category` (None: leave it to the agents) on behalf of `user_id` (a Slack user,
        or the page's operator with source `admin`); `detail` is Slack mrkdwn for `slack`, plain text for `admin`."""
        with self.store.session() as session:
            found = _review_of(session, helpdesk, external_id)
            if found is None:
                return ClickResult(UNKNOWN, "This ticket is not waiting for review in triage.")
            message, prediction = found
            if message.state != "open":
                return ClickResult(ALREADY, _already(session, message, source))
            by_agent = _routed_in_store(session, message.ticket_id)
            if category is not None and prediction is not None and category not in prediction.probabilities:
                return ClickResult(UNKNOWN, f"{category} is not a category of model {prediction.model_version}.")
            message_id = message.id
        by_agent = by_agent or routed_in_helpdesk(self.helpdesks.get(helpdesk), external_id)
        if by_agent:
            return ClickResult(ALREADY, f"{by_agent} already routed this ticket in {helpdesk.capitalize()}; "
                                        "triage changed nothing.")
        with self.store.session() as session:
            return self._record(session, message_id, user_id, category, source)

    def _record(self, session, message_id: int, user_id: str, category: str | None, source: str) -> ClickResult:
        now = utcnow()
        won = session.execute(
            update(ReviewMessage).where(ReviewMessage.id == message_id, ReviewMessage.state == "open")
            .values(state=LEFT if category is None else "resolved", resolved_by=user_id, resolved_at=now)
        ).rowcount == 1
        message = session.get(ReviewMessage, message_id)
        if not won:
            session.refresh(message)
            return ClickResult(ALREADY, _already(session, message, source))
        ticket = session.get(TicketRecord, message.ticket_id)
        prediction = review_prediction(session, message)
        before = {"review": "open", "category": prediction.category if prediction else None}
        if category is None:
            audit.record(session, user_id, audit.LEAVE, f"{ticket.helpdesk}:{ticket.external_id}", before,
                         {"review": LEFT}, source=source, at=now)
            log.info("review left to agents", extra={"ticket_id": message.ticket_id, "user": user_id})
            return ClickResult(LEFT, "")
        session.add(Correction(
            ticket_id=ticket.id, source=source, user=user_id, to_category=category, created_at=now,
            from_category=prediction.category if prediction else None,
            model_version=prediction.model_version if prediction else None))
        ticket.label, ticket.label_source = category, REVIEW_LABEL_SOURCE
        route = build_route(category, ticket.helpdesk, self.routing)
        write_back = WriteBack(delivery_id=message.delivery_id, ticket_id=ticket.id, helpdesk=ticket.helpdesk,
                               kind="correction", route=route.to_dict(), state="pending", next_try_at=now)
        session.add(write_back)
        session.flush()
        audit.record(session, user_id, audit.CORRECTION, f"{ticket.helpdesk}:{ticket.external_id}", before,
                     {"review": "resolved", "category": category}, source=source, at=now)
        log.info("review routed", extra={"ticket_id": ticket.id, "user": user_id, "category": category,
                                         "source": source})
        return ClickResult(ROUTED, "", write_back.id)


def _review_of(session, helpdesk: str, external_id: str):
    ticket_id = session.scalar(select(TicketRecord.id).where(TicketRecord.helpdesk == helpdesk,
                                                             TicketRecord.external_id == external_id))
    message = session.scalar(select(ReviewMessage).where(ReviewMessage.ticket_id == ticket_id)) if ticket_id else None
    return (message, review_prediction(session, message)) if message else None


def review_prediction(session, message: ReviewMessage) -> PredictionRecord | None:
    query = select(PredictionRecord).where(PredictionRecord.role == "champion")
    if message.delivery_id is not None:
        query = query.where(PredictionRecord.delivery_id == message.delivery_id)
    else:
        query = query.where(PredictionRecord.ticket_id == message.ticket_id).order_by(PredictionRecord.id.desc())
    return session.scalars(query.limit(1)).first()


def _routed_in_store(session, ticket_id: int) -> str | None:
    """An agent's re-routing that the helpdesk side of triage recorded (a `helpdesk` correction)."""
    correction = session.scalars(select(Correction).where(Correction.ticket_id == ticket_id,
                                                          Correction.source == "helpdesk")
                                 .order_by(Correction.id.desc()).limit(1)).first()
    if correction is None:
        return None
    return f"{correction.user or 'An agent'} (to {correction.to_category})"


def _already(session, message: ReviewMessage, source: str = SLACK) -> str:
    """Who resolved the review and how, for the clicker: Slack mrkdwn for a Slack click, plain text for the page."""
    correction = session.scalars(select(Correction).where(Correction.ticket_id == message.ticket_id,
                                                          Correction.source.in_((SLACK, ADMIN)))
                                 .order_by(Correction.id.desc()).limit(1)).first()
    if correction is None:  # left to the agents: the audit entry says where from
        entry = audit.latest(session, _target(session, message.ticket_id), (audit.LEAVE,))
        by_source = entry.source if entry else None
    else:
        by_source = correction.source
    who = _who(message.resolved_by, by_source, slack_markup=source == SLACK)
    when = f" at {message.resolved_at:%Y-%m-%d %H:%M} UTC" if message.resolved_at else ""
    if message.state == LEFT:
        return f"{who} already left this ticket to the agents{when}; nothing changed."
    category = correction.to_category if correction else None
    where = (f" to *{category}*" if source == SLACK else f" to {category}") if category else ""
    return f"{who} already routed this ticket{where}{when}; nothing changed."


def _target(session, ticket_id: int) -> str:
    ticket = session.get(TicketRecord, ticket_id)
    return f"{ticket.helpdesk}:{ticket.external_id}"


def _who(user: str | None, source: str | None, slack_markup: bool) -> str:
    if not user:
        return "Someone"
    if user == ADMIN_USER:
        return "An admin on triage's admin page"
    if source == ADMIN:
        return f"{user} on triage's admin page"
    return f"<@{user}>" if slack_markup else f"Slack user {user}"
