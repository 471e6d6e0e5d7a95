"""The line at the top of the page after an action: what was done, read back from the store, never echoed.

An action redirects to `/admin?<what>=<id>` (requeued, dropped, routed, promoted, rolled_back, agent; `retried` and
`gave_up` name failed items as `d<id>`/`w<id>`/`a<id>` keys, comma separated); only ids are taken from the URL, and what is
said about them comes from the store or the registry, so a crafted link cannot make the page say anything else.
A notice says what will really happen next: a retry is promised only while the write-back is pending (the
clock's sweep writes it when due); a failed one is said to wait, untouched, under the failed items. The page's refresh asks again with the same query, so the
state of a route being written ("being written" -> "written") updates in place.
"""
from __future__ import annotations

from sqlalchemy import select

from admin.assignment_panel import agent_notice
from admin.blueprint import row_id, version_id
from admin.tables import item_key
from integrations.slack.clicks import ADMIN
from store.inbox import DROPPED
from store.models import FAILED, OPEN_STATES, Assignment, Correction, Delivery, ReviewMessage, TicketRecord, WriteBack

STARTER = "starter"
MAX_KEYS = 200  # a bulk action's redirect names at most this many items (admin.delivery_views.MAX_BULK)


def notices(runtime, args, error: str | None = None) -> list[dict]:
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
    found += item_notices(runtime, args)
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
        return f"{name} routed to {category[:80]} {by}. {write_state(write, ticket.helpdesk, _max_attempts(runtime))}"


def _max_attempts(runtime) -> int:
    return runtime.settings.triage_max_attempts


def write_state(write: WriteBack | None, helpdesk: str, max_attempts: int) -> str:
    """What became of a write-back, and what happens to it next (nothing is promised that will not happen)."""
    desk = helpdesk.capitalize()
    if write is None:
        return ""
    if write.state == "done":
        return f"Dry run: nothing written to {desk} (no credentials)." if write.dry_run else f"Written to {desk}."
    if write.state == FAILED:
        tries = f"after {write.attempts} attempt{'s' if write.attempts != 1 else ''}"
        return (f"Writing to {desk} failed {tries}: {(write.last_error or '')[:200]}. Nothing retries it on its own: "
                "it waits under Failed items, where it can be retried or dropped.")
    if write.state == DROPPED:
        return f"It was dropped: never written to {desk}."
    if write.last_error:
        due = write.next_try_at.strftime("%H:%M:%S") if write.next_try_at else "soon"
        left = max(0, max_attempts - write.attempts)
        return (f"{desk} did not take it yet ({write.last_error[:120]}). It is due again at {due} UTC, when the "
                f"clock's sweep writes it (`triage clock`, or `triage serve`); {left} attempt{'s' if left != 1 else ''} "
                "left before it stops and waits under Failed items.")
    return f"Being written to {desk}…"


def keys_of(text: str) -> list[tuple[str, int]]:
    """`d12,w5` -> [("d", 12), ("w", 5)]: the failed items a redirect names; text no item can have is skipped."""
    found = [item_key(part) for part in (text or "").split(",")[:MAX_KEYS]]
    return list(dict.fromkeys(key for key in found if key is not None))


def item_notices(runtime, args) -> list[dict]:
    """After a retry or drop of failed items (one or many): where each stands now, read from the store."""
    found = []
    retried, gave_up = keys_of(args.get("retried", "")), keys_of(args.get("gave_up", ""))
    if retried:
        text = _retried_text(runtime, retried)
        if text:
            found.append({"id": "retried", "kind": "ok", "text": text})
    if gave_up:
        text = _dropped_text(runtime, gave_up)
        if text:
            found.append({"id": "gave-up", "kind": "ok", "text": text})
    return found


def _states(runtime, keys: list[tuple[str, int]]) -> tuple[dict[int, Delivery], dict[int, WriteBack], dict]:
    deliveries = [i for kind, i in keys if kind == "d"]
    writes = [i for kind, i in keys if kind == "w"]
    with runtime.store.session() as session:
        found_d = {d.id: d for d in session.scalars(select(Delivery).where(Delivery.id.in_(deliveries)))} \
            if deliveries else {}
        found_w = {w.id: w for w in session.scalars(select(WriteBack).where(WriteBack.id.in_(writes)))} if writes else {}
        ticket_ids = {row.ticket_id for row in [*found_d.values(), *found_w.values()]}
        tickets = {t.id: t for t in session.scalars(select(TicketRecord).where(TicketRecord.id.in_(ticket_ids)))} \
            if ticket_ids else {}
        session.expunge_all()
    return found_d, found_w, tickets


def _assignment_states(runtime, keys: list[tuple[str, int]]) -> list[str]:
    """The states of the assignments (`a<id>`) among `keys`."""
    ids = [i for kind, i in keys if kind == "a"]
    if not ids:
        return []
    with runtime.store.session() as session:
        return list(session.scalars(select(Assignment.state).where(Assignment.id.in_(ids))))


def _retried_text(runtime, keys: list[tuple[str, int]]) -> str | None:
    deliveries, writes, tickets = _states(runtime, keys)
    waited = _assignment_states(runtime, keys)
    if not deliveries and not writes and not waited:
        return None
    if len(keys) == 1 and writes:  # one write-back: say exactly what became of it
        write = next(iter(writes.values()))
        ticket = tickets.get(write.ticket_id)
        name = f"{ticket.helpdesk.capitalize()} ticket #{ticket.external_id[:40]}" if ticket else "The ticket"
        return f"{name}: the {write.kind} was retried. {write_state(write, write.helpdesk, _max_attempts(runtime))}"
    tally = {"written": 0, "being written": 0, "requeued at the step where they stopped": 0, "failed again": 0,
             "waiting for the waiting queue to assign them": 0}
    for state in waited:
        key = ("waiting for the waiting queue to assign them" if state == "waiting" else
               "written" if state == "assigned" else "failed again" if state == FAILED else None)
        if key:
            tally[key] += 1
    for delivery in deliveries.values():
        key = ("requeued at the step where they stopped" if delivery.state in OPEN_STATES else
               "written" if delivery.state == "done" else "failed again" if delivery.state == FAILED else None)
        if key:
            tally[key] += 1
    for write in writes.values():
        key = ("written" if write.state == "done" else "being written" if write.state == "pending" else
               "failed again" if write.state == FAILED else None)
        if key:
            tally[key] += 1
    told = ", ".join(f"{count} {what}" for what, count in tally.items() if count)
    again = " Those that failed again wait under Failed items." if tally["failed again"] else ""
    pending = (" A write-back the helpdesk does not take now is tried again by the clock's sweep until its attempts "
               "run out." if tally["being written"] else "")
    total = len(deliveries) + len(writes) + len(waited)
    return f"Retried {total} failed item{'s' if total != 1 else ''}: {told or 'none changed'}.{pending}{again}"


def _dropped_text(runtime, keys: list[tuple[str, int]]) -> str | None:
    deliveries, writes, _ = _states(runtime, keys)
    dropped = sum(row.state == DROPPED for row in [*deliveries.values(), *writes.values()])
    dropped += sum(state == DROPPED for state in _assignment_states(runtime, keys))
    if not dropped:
        return None
    return (f"Dropped {dropped} failed item{'s' if dropped != 1 else ''}: kept in the store as `dropped` with their "
            "error, never retried, and out of the pending, failed and latency figures.")
