"""What a helpdesk says about the people behind a group: who is in it, who is available, how loaded each is.

Each real adapter has a `team` that reads these through the helpdesk's API (`integrations.<key>.team`);
`integrations.assignment` turns them into one choice per ticket. Reads raise only the error types of
`integrations.errors`, so a 429 or an outage while loads are read defers the write-back like any other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

OPEN_STATUSES = ("new", "open", "pending")  # what counts as an agent's load, in Zendesk's words


@dataclass(frozen=True)
class Member:
    """One member of a group, as the helpdesk says now."""

    agent_id: str  # the helpdesk's id, as text
    name: str
    available: bool | None  # the helpdesk's availability; None: it does not say (then every active member is)
    active: bool = True  # False: suspended, deactivated or deleted: never a candidate


class TeamReads(Protocol):
    def members(self, group_id: str) -> list[Member]:
        """The group's members with their availability (one or a few calls; paged lists are read whole)."""
        ...

    def open_count(self, agent_id: str) -> int:
        """The agent's open tickets (new, open and pending) as the helpdesk counts them (its search API)."""
        ...
