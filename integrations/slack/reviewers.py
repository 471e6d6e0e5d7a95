"""Who may click review buttons: `SLACK_REVIEWERS`, user ids (U.../W...) and user-group ids (S...).

Empty means anyone who can see the channel. A group's members come from `usergroups.users.list`
(scope `usergroups:read`) and are cached for `ttl_seconds`; if Slack cannot tell us, we refuse (a
stale list is used when there is one), because a click changes the helpdesk.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from slack_sdk import WebClient

log = logging.getLogger(__name__)


def is_user_group(entry: str) -> bool:
    return entry.startswith("S")


class Reviewers:
    def __init__(self, entries: list[str], client: WebClient, ttl_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.users = {e for e in entries if not is_user_group(e)}
        self.groups = [e for e in entries if is_user_group(e)]
        self.client, self.ttl_seconds, self.clock = client, ttl_seconds, clock
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    @property
    def anyone(self) -> bool:
        return not self.users and not self.groups

    def allows(self, user_id: str) -> bool:
        if self.anyone or user_id in self.users:
            return True
        return any(user_id in self._group_members(group) for group in self.groups)

    def describe(self) -> str:
        names = [f"<@{u}>" for u in sorted(self.users)] + [f"<!subteam^{g}>" for g in self.groups]
        return ", ".join(names)

    def _group_members(self, group: str) -> set[str]:
        now = self.clock()
        with self._lock:
            cached = self._members.get(group)
        if cached and now - cached[0] < self.ttl_seconds:
            return cached[1]
        try:
            members = set(self.client.usergroups_users_list(usergroup=group).get("users", []))
        except Exception as exc:  # Slack down or scope missing: fall back to what we knew, else refuse
            log.warning("cannot list user group members", extra={"group": group, "error": str(exc)})
            return cached[1] if cached else set()
        with self._lock:
            self._members[group] = (now, members)
        return members
