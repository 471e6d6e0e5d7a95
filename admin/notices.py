"""The line at the top of the page after an action: what was done, read back from the store, never echoed.

An action redirects to `/admin?<what>=<id>` (requeued, dropped, routed, promoted, rolled_back, agent); only ids
are taken from the URL, and what is said about them comes from the store or the registry, so a crafted
link cannot make the page say anything else. The page's refresh asks again with the same query, so the
state of a route being written ("being written" -> "written") updates in place.
"""
from __future__ import annotations

from sqlalchemy import select

from admin.assignment_panel import agent_notice
from integrations.slack.clicks import ADMIN
from store.models import Correction, ReviewMessage, TicketRecord, WriteBack

STARTER = "starter"


def notices(runtime, args, error: str | None = None) -> list[dict]:
    from admin.views import row_id, version_id

    found = []
    if error:
        found.append({"id": "action-error", "kind": "error", "text": error})
    delivery = row_id(args.get("requeued", ""))
    if delivery:
        found.append({"id": "requeued", "kind": "ok",
                      "text": f"Delivery {delivery} was requeued at the step where it stopped."})
    delivery = row_id(args.get("dropped", ""))
    if delivery:
        found.append({"id": "dropped", "kind": "ok", "text": f"Delivery {delivery} was dropped: it stays in the "
                      "store as `dropped` and is never retried."})
    review = row_id(args.get("routed", ""))
    if review:
        text = routed_notice(runtime, review)
        if text:
            found.append({"id": "routed", "kind": "ok", "text": text})
    version = version_id(args.get("promoted", ""))
    if version:
        found.append({"id": "promoted", "kind": "ok", "text": f"Version {version} is now current. Web and worker "
                      f"processes switch to it within {runtime.settings.triage_model_poll_seconds:g} s."})
    version = version_id(args.get("rolled_back", ""))
    if version:
        now = "the bundled starter model" if version == STARTER else f"version {version}"
        found.append({"id": "rolled-back", "kind": "ok", "text": f"Rolled back: {now} is current again."})
    agent = agent_notice(runtime, args)
    if agent:
        found.append(agent)
    return found


def routed_notice(runtime, review_id: int) -> str | None:
    """What became of a review routed from this page: the category and the helpdesk write's state."""
    with runtime.store.session() as session:
        message = session.get(ReviewMessage, review_id)
        if message is None or message.state == "open":
            return None
        ticket = session.get(TicketRecord, message.ticket_id)
        name = f"{ticket.helpdesk.capitalize()} ticket #{ticket.external_id[:40]}"
        if message.state == "left":
            return f"{name} was left to the agents."
        correction = session.scalars(select(Correction).where(Correction.ticket_id == ticket.id)
                                     .order_by(Correction.id.desc()).limit(1)).first()
        write = session.scalars(select(WriteBack).where(WriteBack.ticket_id == ticket.id,
                                                        WriteBack.kind == "correction")
                                .order_by(WriteBack.id.desc()).limit(1)).first()
        category = correction.to_category if correction else "?"
        by = "from this page" if correction is not None and correction.source == ADMIN else "in Slack"
        return f"{name} routed to {category[:80]} {by}. {_write_state(write, ticket.helpdesk)}"


def _write_state(write: WriteBack | None, helpdesk: str) -> str:
    desk = helpdesk.capitalize()
    if write is None:
        return ""
    if write.state == "done":
        return f"Dry run: nothing written to {desk} (no credentials)." if write.dry_run else f"Written to {desk}."
    if write.state == "failed":
        return f"Writing to {desk} failed: {(write.last_error or '')[:200]}"
    if write.last_error:
        return f"{desk} did not take it yet ({write.last_error[:120]}); the clock tries again."
    return f"Being written to {desk}…"
