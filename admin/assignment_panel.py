"""The Assignment section: who in each helpdesk group can take tickets and how many they hold, and the tickets
waiting for capacity. A few queries in all (groups, agents, today's assignments, the queue's summary, one page
of its rows and their count), whatever the number of agents: members are looked up in memory.

An agent is *away* while an operator's mark on this page runs, *off* when the helpdesk says they are not
available (or deactivated), else *available*. Their open count is the helpdesk's last count plus what triage
assigned them since; their cap comes from the routing file.
"""
from __future__ import annotations

from datetime import datetime, time, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.paging import AGE_FILTER, HELPDESK_FILTER, Filter, age_cutoff, fetch_page, read_page, search_clause
from integrations.links import ticket_url
from store.assignments import WAITING, all_agents, assigned_since_all, load_of, team_groups, waiting_summary
from store.models import AgentLoad, Assignment
from store.types import utcnow

AVAILABLE, AWAY, OFF = "available", "away", "off"


def assignment_panel(session: Session, assignment_config, now: datetime, args=None, strict: bool = False,
                     settings=None) -> dict:
    agents = {(row.helpdesk, row.agent_id): row for row in all_agents(session)}
    midnight = datetime.combine(now.date(), time.min, tzinfo=timezone.utc)  # now is UTC
    today = assigned_since_all(session, midnight)
    groups = [{"helpdesk": group.helpdesk, "group_id": group.group_id, "name": group.name or f"group {group.group_id}",
               "read_at": group.read_at,
               "members": [_member(group.helpdesk, agent_id, agents.get((group.helpdesk, agent_id)), today,
                                   assignment_config, now) for agent_id in group.members or []]}
              for group in team_groups(session)]
    return {"groups": groups, "waiting": waiting_panel(session, now, args, strict, settings),
            "today": now.date().isoformat()}


def agent_status(row: AgentLoad, now: datetime) -> str:
    if row.away_until is not None and row.away_until > now:
        return AWAY
    if not row.active or row.available is False:
        return OFF
    return AVAILABLE


def _member(helpdesk: str, agent_id: str, row: AgentLoad | None, today: dict, config, now: datetime) -> dict:
    if row is None:  # listed in a group, never stored as an agent: nothing known about them yet
        return {"helpdesk": helpdesk, "agent_id": agent_id, "name": agent_id, "status": None, "known": False,
                "load": None, "open_count": None, "assigned_since": 0, "cap": config.cap_for(agent_id, None),
                "today": today.get((helpdesk, agent_id), 0)}
    status = agent_status(row, now)
    return {"helpdesk": helpdesk, "agent_id": agent_id, "name": row.name or agent_id, "status": status, "known": True,
            "away_until": row.away_until if status == AWAY else None,
            "away_set_by": row.away_set_by if status == AWAY else None,
            "off_reason": None if status != OFF else ("deactivated" if not row.active else "helpdesk says unavailable"),
            "load": load_of(row) if row.open_count is not None else None, "open_count": row.open_count,
            "assigned_since": row.assigned_since or 0, "counted_at": row.counted_at,
            "cap": config.cap_for(agent_id, row.name), "today": today.get((helpdesk, agent_id), 0)}


def waiting_panel(session: Session, now: datetime, args=None, strict: bool = False, settings=None) -> dict:
    """The queue's figures (all of it) and one page of its rows, as asked in the query string (`waiting.*`)."""
    summary = waiting_summary(session)
    count = sum(count for count, _ in summary.values())
    oldest = min((since for _, since in summary.values() if since is not None), default=None)
    filters = [Filter("group", "group", _group_choices(session)), Filter("category", "category"),
               HELPDESK_FILTER, AGE_FILTER]
    query = read_page(args or {}, "waiting", filters, strict=strict)
    conditions = [Assignment.state == WAITING, search_clause(query.search, Assignment.external_id,
                                                             Assignment.category, Assignment.group_name)]
    group, category, helpdesk = query.get("group"), query.get("category"), query.get("helpdesk")
    if group is not None:
        group_helpdesk, _, group_id = group.partition(":")
        conditions += [Assignment.helpdesk == group_helpdesk, Assignment.group_id == group_id]
    if category is not None:
        conditions.append(Assignment.category == category)
    if helpdesk is not None:
        conditions.append(Assignment.helpdesk == helpdesk)
    cutoff = age_cutoff(query.get("age"), now)
    if cutoff is not None:
        conditions.append(Assignment.waiting_since <= cutoff)
    stmt = select(Assignment).where(*conditions).order_by(Assignment.waiting_since, Assignment.id)
    page = fetch_page(session, stmt, query, scalars=True, overall=count)
    page.rows = [{"helpdesk": a.helpdesk, "external_id": a.external_id, "group": a.group_name or f"group {a.group_id}",
                  "category": a.category, "since": a.waiting_since, "reason": a.reason,
                  "url": ticket_url(a.helpdesk, a.external_id, settings) if settings is not None else None}
                 for a in page.rows]
    return {"count": count, "rows": page.rows, "page": page,
            "oldest_seconds": (now - oldest).total_seconds() if oldest is not None else None,
            "by_helpdesk": {helpdesk: count for helpdesk, (count, _) in sorted(summary.items())}}


def _group_choices(session: Session) -> tuple[tuple[str, str], ...]:
    """`<helpdesk>:<group id>` of every group a ticket waits for, named as the helpdesk names it."""
    rows = session.execute(select(Assignment.helpdesk, Assignment.group_id, func.max(Assignment.group_name))
                           .where(Assignment.state == WAITING)
                           .group_by(Assignment.helpdesk, Assignment.group_id)).all()
    return tuple(sorted((f"{helpdesk}:{group_id}", f"{helpdesk}: {name or 'group ' + group_id}")
                        for helpdesk, group_id, name in rows))


def agent_notice(runtime, args) -> dict | None:
    """After the away form: what the store now says about the agent (`?agent=<helpdesk>:<agent id>`), read back,
    never echoed: an agent the store does not know gives no notice."""
    helpdesk, _, agent_id = (args.get("agent") or "").partition(":")
    if not helpdesk or not agent_id or len(agent_id) > 64:
        return None
    with runtime.store.session() as session:
        row = session.scalar(select(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == agent_id))
        if row is None:
            return None
        name, status, until, by = row.name or row.agent_id, agent_status(row, utcnow()), row.away_until, row.away_set_by
    if status == AWAY:
        return {"id": "agent-away", "kind": "ok", "text": f"{name[:80]} is away until {until:%Y-%m-%d %H:%M} UTC "
                f"(marked by {by or 'an operator'}): no new tickets for them until then."}
    return {"id": "agent-back", "kind": "ok", "text": f"{name[:80]} is back: the rules may give them tickets again"
            + (" (the helpdesk says they are unavailable for now)." if status == OFF else ".")}
