"""Route a waiting ticket from the admin page: exactly what a Slack click does, with source `admin`.

`ClickRecorder` records the correction, the ticket's label and a pending correction write-back in one
transaction (compare-and-set on the review: a ticket someone routed meanwhile changes nothing). Then, on
a background pool (`admin_writes`, four threads) as a click's lazy listener does, the Slack message (if the
review has one) is updated to say an admin routed it, and the write-back is applied
(`apply_pending_corrections(only_id=...)`); if the helpdesk is down it stays pending and the clock's sweep
writes it later. The page answers at once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from admin.review_panel import known_categories
from integrations.review_queue import ranked_categories
from integrations.slack.clicks import ADMIN, ADMIN_USER, LEFT, ROUTED, UNKNOWN, ClickRecorder, review_prediction
from store.assignments import written_assignment
from store.models import ReviewMessage, TicketRecord
from integrations.corrections import RetryPolicy, apply_pending_corrections

log = logging.getLogger(__name__)
NOT_FOUND, BAD_CATEGORY = "not_found", "bad_category"
# after the page answered, a route's Slack update and helpdesk write (and a retry's writes) run on this many
# threads: an operator or a script working through hundreds of tickets queues them, never a thread each
ADMIN_WRITE_THREADS = 4


def admin_writes(runtime):
    """The pool the page hands its writes to (one per runtime)."""
    return runtime.background.pool("admin-writes", ADMIN_WRITE_THREADS)


@dataclass(frozen=True)
class RouteOutcome:
    outcome: str  # routed | left | already | unknown | not_found | bad_category
    detail: str = ""
    write_back_id: int | None = None


def route_review(runtime, review_id: int, category: str | None, operator: str = ADMIN_USER) -> RouteOutcome:
    """`category` None: leave the ticket to the agents (Slack's "Leave it to agents"); `operator` is who did it
    (the correction's user and the audit entry's actor)."""
    with runtime.store.session() as session:
        message = session.get(ReviewMessage, review_id)
        if message is None:
            return RouteOutcome(NOT_FOUND, f"no review has the id {review_id}")
        ticket = session.get(TicketRecord, message.ticket_id)
        helpdesk, external_id = ticket.helpdesk, ticket.external_id
        prediction = review_prediction(session, message)
        allowed = [c for c, _ in ranked_categories(prediction.probabilities)] if prediction else []
    if category is not None and category not in (allowed or known_categories(runtime)):
        return RouteOutcome(BAD_CATEGORY, f"{category[:80]!r} is not a category this ticket can be routed to")
    recorder = ClickRecorder(runtime.store, runtime.routing, runtime.pipeline.helpdesks)
    result = recorder.click(helpdesk, external_id, operator, category, source=ADMIN)
    if result.outcome not in (ROUTED, LEFT):
        return RouteOutcome(BAD_CATEGORY if result.outcome == UNKNOWN else result.outcome, result.detail)
    log.info("review resolved from the admin page", extra={"review_id": review_id, "category": category,
                                                           "operator": operator})
    admin_writes(runtime).submit(_after_route, runtime, review_id, category, result.write_back_id)
    return RouteOutcome(result.outcome, "", result.write_back_id)


def _after_route(runtime, review_id: int, category: str | None, write_back_id: int | None) -> None:
    """Best effort, like a click after its ack: the route is recorded; Slack and the helpdesk follow."""
    _update_slack(runtime, review_id, category)
    if write_back_id is None:
        return
    try:
        apply_pending_corrections(runtime.store, runtime.pipeline.helpdesks,
                                  RetryPolicy.from_settings(runtime.settings), only_id=write_back_id)
        with runtime.store.session() as session:
            assignment = written_assignment(session, write_back_id)
    except Exception as exc:  # pending in the store: the clock's sweep writes it
        log.warning("correction write after an admin route failed; the sweep retries it",
                    extra={"write_back_id": write_back_id, "error": str(exc)})
        return
    if assignment:  # a rule chose the assignee: the Slack message says who got the ticket and why
        _update_slack(runtime, review_id, category, assignment)


def _update_slack(runtime, review_id: int, category: str | None, assignment: dict | None = None) -> None:
    from integrations.slack.review_update import update_resolved_review

    try:
        update_resolved_review(runtime, review_id, category, assignment=assignment)
    except Exception as exc:  # never lose the write-back for Slack's sake
        log.warning("review message update failed", extra={"review_id": review_id, "error": str(exc)})
