"""Assignment by load, decided in the store, so several workers on several machines agree.

Every choice is one transaction that first locks the candidates' `agent_loads` rows (FOR UPDATE on
PostgreSQL, in id order so two workers cannot deadlock; on SQLite the writer lock taken at BEGIN does the
same), reads their loads under that lock, picks one, records the assignment and counts it on the agent
before the lock is let go. So two workers never both give away an agent's last slot, and never push
anyone past a cap. An agent's load is the helpdesk's last count of their open tickets plus what triage
assigned them since that count was asked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import AgentLoad, Assignment, TeamGroup
from store.types import utcnow as utc_now

WAITING, ASSIGNED, TAKEN, CLOSED = "waiting", "assigned", "taken", "closed"
# a waiting ticket whose assignment the helpdesk refused MAX_FAILURES times in a row is `failed`: the waiting
# queue stops retrying it (and it no longer holds newer tickets of its group back) until an operator retries it
# from the admin page's failed items, or drops it (`dropped`: it keeps its group, nobody assigns it)
FAILED, DROPPED = "failed", "dropped"
MAX_FAILURES = 3
LEAST_LOADED, ROUND_ROBIN = "least_loaded", "round_robin"  # the rules of config.routing
_NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)
# an assignee whose write the helpdesk has not confirmed counts on top of every count for this long; after
# it, a retry of that write-back chooses again (`claim`), so the slot is not held for a write that never lands
UNCONFIRMED_SECONDS = 600


@dataclass(frozen=True)
class Candidate:
    agent_id: str
    name: str
    load: int  # open tickets as last counted, plus triage's assignments since
    cap: int | None  # None: no cap
    last_assigned_at: datetime | None

    @property
    def has_room(self) -> bool:
        return self.cap is None or self.load < self.cap


def pick(rule: str, candidates: Iterable[Candidate]) -> Candidate | None:
    """least_loaded: the fewest open tickets, ties to whoever waited longest since their last assignment;
    round_robin: whoever waited longest. Only agents below their cap; None when nobody has room."""
    room = [c for c in candidates if c.has_room]
    if not room:
        return None
    if rule == ROUND_ROBIN:
        return min(room, key=lambda c: (c.last_assigned_at or _NEVER, c.load, c.agent_id))
    return min(room, key=lambda c: (c.load, c.last_assigned_at or _NEVER, c.agent_id))


@dataclass(frozen=True)
class Claim:
    """What `claim` decided: the agent (None: the ticket waits) and the words that explain it."""

    agent_id: str | None
    agent_name: str | None
    reason: str
    load: int | None = None  # the chosen agent's load before this ticket
    cap: int | None = None
    again: bool = False  # the same ticket's earlier choice, still fresh: nothing counted twice


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def ensure_agents(session: Session, helpdesk: str, agent_ids: Iterable[str]) -> None:
    """A row per agent (two workers may both add one: the second insert does nothing)."""
    rows = [{"helpdesk": helpdesk, "agent_id": agent_id, "active": True, "assigned_since": 0}
            for agent_id in dict.fromkeys(agent_ids)]
    if rows:
        statement = _insert(session)(AgentLoad).values(rows)
        session.execute(statement.on_conflict_do_nothing(index_elements=["helpdesk", "agent_id"]))


def record_members(session: Session, helpdesk: str, group_id: str, group_name: str | None, members: list,
                   now: datetime) -> None:
    """Store a group's members as the helpdesk listed them (`integrations.team.Member`s), with availability."""
    ensure_agents(session, helpdesk, [m.agent_id for m in members])
    for member in members:
        session.execute(update(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == member.agent_id)
                        .values(name=member.name, active=member.active, available=member.available, checked_at=now))
    statement = _insert(session)(TeamGroup).values(helpdesk=helpdesk, group_id=group_id, name=group_name,
                                                   members=[m.agent_id for m in members], read_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["helpdesk", "group_id"],
        set_={"name": group_name, "members": [m.agent_id for m in members], "read_at": now}))


def group_of(session: Session, helpdesk: str, group_id: str) -> TeamGroup | None:
    return session.scalar(select(TeamGroup).where(TeamGroup.helpdesk == helpdesk, TeamGroup.group_id == group_id))


def agents(session: Session, helpdesk: str, agent_ids: Iterable[str], lock: bool = False) -> list[AgentLoad]:
    query = (select(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id.in_(list(agent_ids)))
             .order_by(AgentLoad.id))
    return list(session.scalars(query.with_for_update() if lock else query))


def record_count(session: Session, helpdesk: str, agent_id: str, count: int, asked_at: datetime) -> None:
    """The helpdesk counted `count` open tickets for the agent, in a read that began at `asked_at`. On top
    of it go triage's assignments the count cannot hold: those whose write the helpdesk confirmed after
    the read began, and those not confirmed yet (another worker may be writing one right now)."""
    row = session.scalar(select(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == agent_id)
                         .with_for_update())
    if row is None or (row.counted_at is not None and row.counted_at > asked_at):
        return  # someone recorded a newer count meanwhile
    since = session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.helpdesk == helpdesk, Assignment.agent_id == agent_id, Assignment.state == ASSIGNED,
        _on_top_of(asked_at)))
    row.open_count, row.counted_at, row.assigned_since = int(count), asked_at, int(since or 0)


def _on_top_of(counted_at: datetime):
    """The assignments a helpdesk count read at `counted_at` does not hold (as a SQL condition)."""
    return or_(Assignment.written_at >= counted_at,
               and_(Assignment.written_at.is_(None),
                    Assignment.assigned_at >= counted_at - timedelta(seconds=UNCONFIRMED_SECONDS)))


def _counted_on_top(current: Assignment, counted_at: datetime) -> bool:
    """`_on_top_of` for one assignment in memory."""
    if current.written_at is not None:
        return current.written_at >= counted_at
    return current.assigned_at is not None and current.assigned_at >= counted_at - timedelta(
        seconds=UNCONFIRMED_SECONDS)


def confirm(session: Session, helpdesk: str, external_id: str, agent_id: str, now: datetime) -> None:
    """The helpdesk took our assignee: from now on its counts hold the ticket."""
    session.execute(update(Assignment).where(Assignment.helpdesk == helpdesk, Assignment.external_id == external_id,
                                             Assignment.state == ASSIGNED, Assignment.agent_id == agent_id,
                                             Assignment.written_at.is_(None))
                    .values(written_at=now, last_error=None, failures=0))


def record_failure(session: Session, helpdesk: str, external_id: str, error: str) -> str | None:
    """The helpdesk refused a waiting ticket's assignment (not a rate limit, not an outage). The choice made
    for it never landed, so its slot goes back and the ticket waits again, with the reason; after
    MAX_FAILURES in a row it is `failed`. Returns the ticket's state (None: no such assignment)."""
    current = session.scalar(select(Assignment).where(Assignment.helpdesk == helpdesk,
                                                      Assignment.external_id == external_id).with_for_update())
    if current is None or current.state in (TAKEN, CLOSED, DROPPED):
        return None if current is None else current.state
    if current.state == ASSIGNED:
        if current.written_at is not None:  # the helpdesk holds our assignee already: nothing failed to assign
            return current.state
        if current.agent_id:
            _give_back(current, session.scalar(select(AgentLoad).where(
                AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == current.agent_id).with_for_update()))
        current.agent_id, current.agent_name = None, None
    current.failures = (current.failures or 0) + 1
    current.last_error = error[:2000]
    current.state = FAILED if current.failures >= MAX_FAILURES else WAITING
    return current.state


def clear_failure(session: Session, helpdesk: str, external_id: str) -> None:
    """The helpdesk took a write for the ticket: the failures in a row start from zero."""
    session.execute(update(Assignment).where(Assignment.helpdesk == helpdesk, Assignment.external_id == external_id,
                                             Assignment.failures > 0).values(last_error=None, failures=0))


def _failed_items(session: Session, ids: list[int]) -> list[Assignment]:
    """The assignments among `ids` that are failed items: `failed`, or waiting with a refusal on record."""
    ids = [i for i in ids if 0 < i <= 2**31 - 1]
    if not ids:
        return []
    return list(session.scalars(select(Assignment).where(
        Assignment.id.in_(ids), or_(Assignment.state == FAILED,
                                    and_(Assignment.state == WAITING, Assignment.last_error.is_not(None))))
        .order_by(Assignment.id).with_for_update()))


def retry_failed(session: Session, ids: list[int]) -> list[int]:
    """An operator retries failed assignments: they wait again with a clean record, so the waiting queue's
    next round applies them (in their place in the queue: `waiting_since` is kept). Returns the ids retried."""
    rows = _failed_items(session, ids)
    for row in rows:
        row.state, row.last_error, row.failures = WAITING, None, 0
        row.waiting_since = row.waiting_since or utc_now()
    return [row.id for row in rows]


def drop_failed(session: Session, ids: list[int]) -> list[int]:
    """An operator gives up on failed assignments: `dropped`, kept with their group and error, never assigned."""
    rows = _failed_items(session, ids)
    for row in rows:
        row.state = DROPPED
    return [row.id for row in rows]


def load_of(row: AgentLoad) -> int:
    return (row.open_count or 0) + (row.assigned_since or 0)


def claim(session: Session, *, helpdesk: str, external_id: str, rule: str, group_id: str, group_name: str | None,
          category: str | None, route: dict, eligible: list[str], cap_of: Callable[[str, str | None], int | None],
          now: datetime, fresh_seconds: float) -> Claim:
    """Choose among `eligible` agents (available, on shift, counted) under the row lock and record it.

    The same ticket asked again (a retry after a failed write) gets its earlier agent while that choice is
    younger than `fresh_seconds` and the agent is still eligible: its slot is already counted."""
    current = session.scalar(select(Assignment).where(Assignment.helpdesk == helpdesk,
                                                      Assignment.external_id == external_id))
    earlier = current.agent_id if current is not None and current.state == ASSIGNED else None
    locked = agents(session, helpdesk, [*eligible, *([earlier] if earlier else [])], lock=True)
    rows = [row for row in locked if row.agent_id in eligible and row.active and row.available is not False
            and not _away(row, now) and row.open_count is not None]
    label = group_name or f"group {group_id}"
    if (current is not None and current.state == ASSIGNED and current.group_id == group_id and current.assigned_at
            and now - current.assigned_at < timedelta(seconds=fresh_seconds)
            and current.agent_id in {row.agent_id for row in rows}):
        return Claim(current.agent_id, current.agent_name, current.reason or "", again=True)
    if earlier is not None:  # the earlier choice went stale or its agent left: its slot goes back first
        _give_back(current, next((row for row in locked if row.agent_id == earlier), None))
    candidates = [Candidate(row.agent_id, row.name or row.agent_id, load_of(row), cap_of(row.agent_id, row.name),
                            row.last_assigned_at) for row in rows]
    chosen = pick(rule, candidates)
    ahead = 0 if chosen is None or (current is not None and current.state == WAITING) else \
        _waiting_in(session, helpdesk, group_id)
    if ahead:  # room, but older tickets wait for it: they go first
        chosen = None
    if current is None:
        current = Assignment(helpdesk=helpdesk, external_id=external_id)
        session.add(current)
    was_waiting = current.state == WAITING
    current.group_id, current.group_name, current.rule, current.category, current.route = (
        group_id, group_name, rule, category, route)
    if chosen is None:
        reason = (f"{ahead} older ticket{'s' if ahead > 1 else ''} already wait{'' if ahead > 1 else 's'} for "
                  f"capacity in {label}: they go first") if ahead else _nobody(label, candidates, len(eligible))
        current.state, current.agent_id, current.agent_name, current.reason = WAITING, None, None, reason
        current.waiting_since = current.waiting_since if was_waiting and current.waiting_since else now
        return Claim(None, None, reason)
    reason = _why(rule, label, chosen)
    current.state, current.agent_id, current.agent_name = ASSIGNED, chosen.agent_id, chosen.name
    current.reason, current.assigned_at = reason, now
    if not was_waiting:
        current.waiting_since = None
    row = next(row for row in rows if row.agent_id == chosen.agent_id)
    row.assigned_since = (row.assigned_since or 0) + 1
    row.last_assigned_at = now
    return Claim(chosen.agent_id, chosen.name, reason, load=chosen.load, cap=chosen.cap)


def _waiting_in(session: Session, helpdesk: str, group_id: str) -> int:
    """Tickets already waiting for capacity in the group: a new ticket queues behind them (oldest first),
    even when a slot came free a moment ago; the waiting queue hands that slot to the oldest."""
    return session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.state == WAITING, Assignment.helpdesk == helpdesk, Assignment.group_id == group_id)) or 0


def _away(row: AgentLoad, now: datetime) -> bool:
    return row.away_until is not None and row.away_until > now


def _cap_text(candidate: Candidate) -> str:
    return f"{candidate.load} open" + (f" of {candidate.cap}" if candidate.cap is not None else "")


def _why(rule: str, label: str, chosen: Candidate) -> str:
    if rule == ROUND_ROBIN:
        return f"round robin in {label}: longest without a new ticket ({_cap_text(chosen)})"
    return f"least loaded in {label}: {_cap_text(chosen)}"


def _nobody(label: str, candidates: list[Candidate], eligible: int) -> str:
    if not candidates:
        return f"nobody in {label} is available" + ("" if eligible else " (no member is on shift and available)")
    caps = sorted({c.cap for c in candidates if c.cap is not None})
    cap = f"their cap of {caps[0]}" if len(caps) == 1 else "their caps"
    return f"nobody in {label} has room: {len(candidates)} available, all at {cap}"


def release(session: Session, helpdesk: str, external_id: str, state: str) -> bool:
    """The ticket did not go to our choice (someone assigned it first, or it was closed): mark it `state`,
    and give the agent's slot back when it was counted on top of the helpdesk's count."""
    current = session.scalar(select(Assignment).where(Assignment.helpdesk == helpdesk,
                                                      Assignment.external_id == external_id).with_for_update())
    if current is None or current.state in (TAKEN, CLOSED):
        return False
    if current.state == ASSIGNED and current.agent_id:
        _give_back(current, session.scalar(select(AgentLoad).where(
            AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == current.agent_id).with_for_update()))
    current.state, current.last_error, current.failures = state, None, 0
    return True


def _give_back(current: Assignment, row: AgentLoad | None) -> None:
    """Take the ticket off its agent's load when it was counted on top of the helpdesk's count (a count read
    after the assignment already holds it, or not, if our write never landed: nothing to give back)."""
    if row is not None and row.counted_at is not None and row.assigned_since and \
            _counted_on_top(current, row.counted_at):
        row.assigned_since -= 1


def waiting(session: Session, helpdesk: str | None = None, limit: int = 100) -> list[Assignment]:
    """Tickets waiting for capacity, oldest first."""
    query = select(Assignment).where(Assignment.state == WAITING)
    if helpdesk is not None:
        query = query.where(Assignment.helpdesk == helpdesk)
    return list(session.scalars(query.order_by(Assignment.waiting_since, Assignment.id).limit(limit)))


def waiting_summary(session: Session) -> dict[str, tuple[int, datetime | None]]:
    """Per helpdesk: how many tickets wait for capacity, and since when the oldest has."""
    rows = session.execute(select(Assignment.helpdesk, func.count(), func.min(Assignment.waiting_since))
                           .where(Assignment.state == WAITING).group_by(Assignment.helpdesk)).all()
    return {helpdesk: (count, oldest) for helpdesk, count, oldest in rows}


def recount_soon(session: Session, helpdesk: str, agent_id: str | None = None, external_id: str | None = None) -> bool:
    """A helpdesk event says a ticket was solved or reassigned: the agent's count (given, or the one triage
    gave the ticket to) is read again on the next chance, not after the refresh interval. False when no
    agent we know was named."""
    if agent_id is None and external_id is not None:
        agent_id = session.scalar(select(Assignment.agent_id).where(Assignment.helpdesk == helpdesk,
                                                                    Assignment.external_id == external_id))
    if agent_id is None:
        return False
    return session.execute(update(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == agent_id)
                           .values(counted_at=None)).rowcount > 0


def set_away(session: Session, helpdesk: str, agent_id: str, until: datetime | None, by: str | None) -> bool:
    """An operator marks an agent away until `until` (None: back now). False for an agent we do not know."""
    return session.execute(update(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == agent_id)
                           .values(away_until=until, away_set_by=by if until else None)).rowcount == 1


def assigned_since(session: Session, helpdesk: str, since: datetime) -> dict[str, int]:
    """Tickets triage assigned per agent since `since` (the admin page's "assigned today")."""
    rows = session.execute(select(Assignment.agent_id, func.count()).where(
        Assignment.helpdesk == helpdesk, Assignment.state == ASSIGNED, Assignment.assigned_at >= since)
        .group_by(Assignment.agent_id)).all()
    return {agent_id: count for agent_id, count in rows}


CLOSED_WORDS = ("solved", "closed", "resolved", "4", "5")  # Zendesk and Freshdesk names, Freshdesk's codes


def ticket_changed(session: Session, helpdesk: str, external_id: str, status: str | None,
                   assignee: str | None) -> bool:
    """A helpdesk event says a ticket was solved, closed or (re)assigned: whoever held it, and whoever has it
    now, are counted again at the next chance, so a waiting ticket gets the freed slot without waiting out
    the refresh interval; a waiting ticket that a person assigned stops waiting. True when anything changed."""
    current = session.scalar(select(Assignment).where(Assignment.helpdesk == helpdesk,
                                                      Assignment.external_id == external_id))
    closed = status is not None and status.strip().lower() in CLOSED_WORDS
    stale = {agent for agent in (current.agent_id if current else None, assignee) if agent}
    changed = [recount_soon(session, helpdesk, agent_id=agent_id) for agent_id in stale]
    if current is not None and current.state in (WAITING, FAILED) and (closed or assignee):
        current.state = CLOSED if closed else TAKEN
        return True
    return any(changed)


def team_groups(session: Session) -> list[TeamGroup]:
    """Every group a member read stored, by helpdesk and name (the admin page's Assignment section)."""
    return list(session.scalars(select(TeamGroup).order_by(TeamGroup.helpdesk, TeamGroup.name, TeamGroup.group_id)))


def all_agents(session: Session) -> list[AgentLoad]:
    """Every agent row of every helpdesk, in one query (the page looks members up in memory)."""
    return list(session.scalars(select(AgentLoad).order_by(AgentLoad.helpdesk, AgentLoad.id)))


def assigned_since_all(session: Session, since: datetime) -> dict[tuple[str, str], int]:
    """Like `assigned_since`, for every helpdesk at once: {(helpdesk, agent_id): tickets assigned since `since`}."""
    rows = session.execute(select(Assignment.helpdesk, Assignment.agent_id, func.count()).where(
        Assignment.state == ASSIGNED, Assignment.assigned_at >= since)
        .group_by(Assignment.helpdesk, Assignment.agent_id)).all()
    return {(helpdesk, agent_id): count for helpdesk, agent_id, count in rows}


def written_assignment(session: Session, write_back_id: int) -> dict | None:
    """The assignment a write-back's route got (`Choice.to_dict()` in its result), for the Slack message."""
    from store.models import WriteBack

    action = session.get(WriteBack, write_back_id)
    result = action.result if action is not None and action.state == "done" else None
    return result.get("assignment") if isinstance(result, dict) else None
