"""Who is in a Freshdesk group, who of them is available, and how many open tickets each has (`TeamReads`).

A group's `agent_ids`, the agents' `available` flag and contact from the (paged) agent list; an agent the
list no longer has (deleted) or that is deactivated or unverified is never a candidate. The load is the
ticket search on agent_id and the statuses that are not resolved or closed: open, pending and the account's
custom statuses, read once an hour from the status field's choices. Answers of the wrong shape raise
Unavailable naming the endpoint, like any other unreadable answer.
"""
from __future__ import annotations

import time
from typing import Callable
from urllib.parse import quote

from integrations.errors import Rejected, Unavailable
from integrations.freshdesk.client import FreshdeskClient
from integrations.team import Member

HELPDESK = "freshdesk"
OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5
STATUSES_TTL = 3600.0  # custom statuses change rarely; read their ids at most once an hour


class FreshdeskTeam:
    def __init__(self, client: FreshdeskClient, clock: Callable[[], float] = time.monotonic):
        self.client, self._clock = client, clock
        self._statuses: tuple[int, ...] | None = None
        self._statuses_at = 0.0

    def members(self, group_id: str) -> list[Member]:
        path = f"/api/v2/groups/{_id(group_id)}"
        group = self.client.get(path)
        agent_ids = group.get("agent_ids") if isinstance(group, dict) else None
        if not isinstance(agent_ids, list):
            raise _wrong(path, "no agent_ids")
        agent_ids = list(dict.fromkeys(_int(a, path, "agent_ids") for a in agent_ids))
        if not agent_ids:
            return []
        agents = {}
        for agent in self.client.all("/api/v2/agents", strict=True):
            if not isinstance(agent, dict):
                raise _wrong("/api/v2/agents", "an agent that is not an object")
            agents[_int(agent.get("id"), "/api/v2/agents", "id")] = agent
        return [_member(agent_id, agents.get(agent_id)) for agent_id in agent_ids]

    def open_count(self, agent_id: str) -> int:
        statuses = " OR ".join(f"status:{s}" for s in self.open_statuses())
        query = f'"agent_id:{_id(agent_id)} AND ({statuses})"'
        path = "/api/v2/search/tickets"
        body = self.client.get(f"{path}?query={quote(query, safe='')}")  # spaces as %20, quotes as %22
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise _wrong(path, "no total")
        return total

    def open_statuses(self) -> tuple[int, ...]:
        """Open, pending and every custom status (the status field's choices other than resolved and closed)."""
        now = self._clock()
        if self._statuses is None or now - self._statuses_at >= STATUSES_TTL:
            self._statuses, self._statuses_at = self._read_statuses(), now
        return self._statuses

    def _read_statuses(self) -> tuple[int, ...]:
        path = "/api/v2/ticket_fields"
        fields = self.client.get(path, type="default_status")
        if not isinstance(fields, list):
            raise _wrong(path, "not a list")
        for field in fields:
            is_status = isinstance(field, dict) and field.get("type") == "default_status"
            choices = field.get("choices") if is_status else None
            if isinstance(choices, dict):
                ids = sorted({int(k) for k in choices if str(k).isdigit()} - {RESOLVED, CLOSED})
                if OPEN in ids:
                    return tuple(ids)
        return (OPEN, PENDING)  # no status field we can read: the two built-in open statuses


def _member(agent_id: int, agent: dict | None) -> Member:
    if agent is None:  # deleted: the group still lists it, the agent list no longer does
        return Member(str(agent_id), str(agent_id), available=False, active=False)
    contact = agent.get("contact") if isinstance(agent.get("contact"), dict) else {}
    active = not agent.get("deactivated") and contact.get("active", True) is not False
    available = agent.get("available")
    return Member(str(agent_id), contact.get("name") or str(agent_id),
                  available=available if isinstance(available, bool) else None, active=active)


def _int(value, path: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise _wrong(path, f"an entry without a numeric {what}")
    return int(value)


def _id(value: str) -> int:
    """Ids go into URLs and search queries: digits only."""
    text = str(value).strip()
    if not text.isdigit():
        raise Rejected(HELPDESK, f"not a Freshdesk id: {value!r}")
    return int(text)


def _wrong(path: str, what: str) -> Unavailable:
    return Unavailable(HELPDESK, f"unexpected answer from GET {path}: {what}")
