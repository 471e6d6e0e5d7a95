"""Assignment by load: the agent a rule (`least_loaded`, `round_robin`) gives a ticket, or that it waits.

Every path that writes a route (an automatic route, a Slack click, an admin-page route, the clock's retry
and the waiting queue) goes through the adapter's `apply`, which asks `Assigner.choose` here; so they all
choose alike. Members and availability come from the helpdesk (`integrations.team`), plus the operator's
away marks and the routing file's working hours; loads from the helpdesk's count, re-read when older than
`TRIAGE_ASSIGNMENT_REFRESH_SECONDS`. The choice itself is made in the store under a row lock
(`store.assignments.claim`). A helpdesk error while reading (429, outage) propagates: the write-back is
deferred as any other, and nothing is lost.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from config.routing import ASSIGNMENT_RULES, WEEKDAYS, AgentHours, AssignmentConfig, parse_hours
from integrations.route import Route
from integrations.route_plan import Plan
from integrations.team import Member, TeamReads
from store import assignments
from store.database import Store
from store.types import utcnow
from telemetry.metrics import ASSIGNMENTS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """The outcome for one ticket: an agent, or `waiting` (the group is written with no assignee)."""

    rule: str
    group_id: str
    agent_id: str | None
    agent_name: str | None
    reason: str

    @property
    def waiting(self) -> bool:
        return self.agent_id is None

    def note(self) -> str:
        if self.waiting:
            return f"triage: waiting for capacity ({self.reason}); assigned as soon as someone has room"
        return f"triage: assigned to {self.agent_name} ({self.reason})"

    def to_dict(self) -> dict:
        return {"rule": self.rule, "group": self.group_id, "agent": self.agent_id, "agent_name": self.agent_name,
                "reason": self.reason, "waiting": self.waiting}


def is_rule(assignee: object) -> bool:
    return isinstance(assignee, str) and assignee in ASSIGNMENT_RULES


def on_shift(hours: AgentHours, now: datetime) -> bool:
    """Within the agent's working hours and days (in their time zone); always, when the file sets none."""
    if hours.hours is None and hours.days is None:
        return True
    local = now.astimezone(ZoneInfo(hours.time_zone or "UTC"))
    minute = local.hour * 60 + local.minute
    day = WEEKDAYS[local.weekday()]
    span = parse_hours(hours.hours) if hours.hours else (0, 24 * 60)
    start, end = span
    if start < end:
        return (hours.days is None or day in hours.days) and start <= minute < end
    # past midnight: the evening belongs to today's shift, the small hours to yesterday's
    if minute >= start:
        return hours.days is None or day in hours.days
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    return minute < end and (hours.days is None or yesterday in hours.days)


class Assigner:
    """One helpdesk's assignment: reads its team through `team`, decides in `store`."""

    def __init__(self, store: Store, helpdesk: str, team: TeamReads,
                 config: AssignmentConfig | Callable[[], AssignmentConfig], refresh_seconds: float,
                 clock: Callable[[], datetime] = utcnow):
        self.store, self.helpdesk, self.team = store, helpdesk, team
        self._config = config if callable(config) else (lambda: config)
        self.refresh = timedelta(seconds=refresh_seconds)
        self.clock = clock

    @property
    def config(self) -> AssignmentConfig:
        return self._config()

    def choose(self, external_id: str, rule: str, group_id: str, group_name: str | None = None,
               category: str | None = None, route: dict | None = None) -> Choice:
        now = self.clock()
        eligible = self._eligible(group_id, group_name, now)
        config = self.config
        with self.store.session() as session:  # the time of the claim, after the counts it adds to were read
            claim = assignments.claim(
                session, helpdesk=self.helpdesk, external_id=external_id, rule=rule, group_id=group_id,
                group_name=group_name, category=category, route=route or {}, eligible=[m.agent_id for m in eligible],
                cap_of=config.cap_for, now=self.clock(), fresh_seconds=self.refresh.total_seconds())
        choice = Choice(rule, group_id, claim.agent_id, claim.agent_name, claim.reason)
        if not claim.again:
            ASSIGNMENTS.labels(self.helpdesk, rule, "waiting" if choice.waiting else "assigned").inc()
            log.info("assignment", extra={"helpdesk": self.helpdesk, "ticket": external_id, "rule": rule,
                                          "group": group_id, "agent": claim.agent_id, "reason": claim.reason})
        return choice

    def has_room(self, group_id: str, group_name: str | None = None) -> bool:
        """Whether anyone in the group could take a ticket now (refreshing what is too old): the waiting
        queue asks this before it reads any ticket, so a full team costs no ticket reads."""
        now = self.clock()
        eligible = self._eligible(group_id, group_name, now)
        config = self.config
        with self.store.session() as session:
            rows = assignments.agents(session, self.helpdesk, [m.agent_id for m in eligible])
            return any(row.open_count is not None and not (row.away_until and row.away_until > now)
                       and (config.cap_for(row.agent_id, row.name) is None
                            or assignments.load_of(row) < config.cap_for(row.agent_id, row.name)) for row in rows)

    def confirm(self, external_id: str, choice: Choice | None) -> None:
        """The helpdesk took the assignee we chose: its next counts hold the ticket (`store.assignments`)."""
        if choice is not None and choice.agent_id is not None:
            with self.store.session() as session:
                assignments.confirm(session, self.helpdesk, external_id, choice.agent_id, self.clock())

    def release(self, external_id: str, closed: bool = False) -> None:
        """The ticket was taken by a person (or closed) before our assignee was written: give the slot back."""
        with self.store.session() as session:
            released = assignments.release(session, self.helpdesk, external_id,
                                           assignments.CLOSED if closed else assignments.TAKEN)
        if released:
            ASSIGNMENTS.labels(self.helpdesk, "-", "closed" if closed else "taken").inc()

    def _eligible(self, group_id: str, group_name: str | None, now: datetime) -> list[Member]:
        """The group's members who may take a ticket now, each with a fresh enough count."""
        members = self._members(group_id, group_name, now)
        config = self.config
        with self.store.session() as session:
            rows = {row.agent_id: row for row in assignments.agents(session, self.helpdesk,
                                                                      [m.agent_id for m in members])}
        eligible = [m for m in members if m.active and m.available is not False
                    and on_shift(config.settings_for(m.agent_id, m.name), now)
                    and not (rows.get(m.agent_id) and rows[m.agent_id].away_until
                             and rows[m.agent_id].away_until > now)]
        for member in eligible:
            row = rows.get(member.agent_id)
            if row is None or row.counted_at is None or now - row.counted_at >= self.refresh:
                asked_at = self.clock()
                count = self.team.open_count(member.agent_id)
                with self.store.session() as session:
                    assignments.record_count(session, self.helpdesk, member.agent_id, count, asked_at)
        return eligible

    def _members(self, group_id: str, group_name: str | None, now: datetime) -> list[Member]:
        with self.store.session() as session:
            group = assignments.group_of(session, self.helpdesk, group_id)
            if group is not None and group.read_at is not None and now - group.read_at < self.refresh:
                rows = assignments.agents(session, self.helpdesk, group.members)
                return [Member(row.agent_id, row.name or row.agent_id, row.available, row.active) for row in rows]
        members = self.team.members(group_id)
        with self.store.session() as session:
            assignments.record_members(session, self.helpdesk, group_id, group_name, members, now)
        return members


ASSIGNMENT_NOTE = "assignment_note"  # Route.extra: say in a private note who got the ticket and why


def settle_assignee(assigner: Assigner | None, plan: Plan, route: Route, external_id: str, group_names,
                    closed: bool = False) -> Choice | None:
    """For a route whose assignee is a rule: put the chosen agent in the plan (and in its note), or leave the
    ticket waiting with its group written. A ticket a person took, or one closed, gives its slot back."""
    if not is_rule(route.assignee):
        return None
    if assigner is not None and (plan.taken or closed):
        assigner.release(external_id, closed=closed and not plan.taken)
        return None
    if plan.assign_rule is None or closed:
        return None
    if assigner is None:
        plan.skipped.append(f"assignee: {route.assignee} needs the helpdesk's API")
        return None
    group_name = (group_names or {}).get(plan.assign_group)
    choice = assigner.choose(external_id, plan.assign_rule, plan.assign_group, group_name, route.category,
                             route.to_dict())
    if choice.agent_id is not None:
        plan.assignee = choice.agent_id
    if route.extra.get(ASSIGNMENT_NOTE):
        plan.note = f"{plan.note}\n{choice.note()}" if plan.note else choice.note()
    return choice
