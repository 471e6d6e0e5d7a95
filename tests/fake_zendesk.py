"""A fake Zendesk Support API (the documented shapes: tickets with safe_update, cursor-based incremental
export, groups, users, ticket fields, 401/404/409/422/429), for tests and the write-back benchmark.

Every request is recorded. Knobs: `fail(...)` scripts answers; `agent_edits[id] = {...}` is applied just
before our next PUT to that ticket (an agent who wrote between our read and our write); `update_limit`
answers 429 above that many ticket updates in any 60 s; `random_429` answers 429 to that share of calls.

The team (assignment by load): group memberships (cursor pages of `list_page_size`), users show_many, the
Agent Availability API (JSON:API, unified `agent_status`; `availability_api = False` answers 404 as for an
account without it) and the search count API, computed live from the tickets. Shared test API with the
Freshdesk fake: add_group, add_agent, set_available, solve_for, open_count.
"""
from __future__ import annotations

import base64
import calendar
import itertools
import random
import re
import time

from fake_helpdesk_server import FakeServer, SlidingWindow, basic_auth, iso

EMAIL, TOKEN = "bot@example.com", "zendesk-api-token"
EPOCH = 1_700_000_000
STATUS_ORDER = ("new", "open", "pending", "hold", "solved", "closed")  # what search's status<x compares
OPEN_STATUSES = ("new", "open", "pending")
ONLINE, OFFLINE = {"id": 3, "name": "online"}, {"id": 2, "name": "offline"}  # Zendesk's default unified statuses


class FakeZendesk(FakeServer):
    def __init__(self, update_limit: int | None = None, random_429: float = 0.0, seed: int = 7, period: float = 60.0):
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self.groups = [{"id": 100, "name": "Billing", "deleted": False}, {"id": 200, "name": "Shipping", "deleted": False},
                       {"id": 300, "name": "Old team", "deleted": True}]
        self.users = [{"id": 7001, "name": "Ana Agent", "role": "agent"}, {"id": 7002, "name": "Ada Admin", "role": "admin"},
                      {"id": 9001, "name": "Eve End-user", "role": "end-user"}]
        self.ticket_fields = [{"id": 555, "title": "Category", "type": "tagger",
                               "custom_field_options": [{"name": "Refund", "value": "refund"},
                                                        {"name": "Billing", "value": "billing"}]},
                              {"id": 556, "title": "Order number", "type": "text"}]
        self.agent_edits: dict[int, dict] = {}
        self.update_limit, self.random_429, self.rng = update_limit, random_429, random.Random(seed)
        self.update_window = SlidingWindow(period)
        self.applied: dict[int, int] = {}  # ticket id -> updates that succeeded
        self.page_size = 2
        self._clock = EPOCH
        self.memberships: list[dict] = []  # {"id", "user_id", "group_id", "default"}
        self.availability: dict[int, bool] = {}  # agent id -> online (unified agent status)
        self.availability_api = True  # False: the account lacks the Agent Availability API (404)
        self.list_page_size = 100  # the most a cursor page of memberships or availabilities holds
        self._ids = itertools.count(900000)
        self._membership_ids = itertools.count(1)

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == basic_auth(f"{EMAIL}/token", TOKEN)

    def add_ticket(self, ticket_id: int, subject="Refund please", description="My order arrived broken", **fields) -> dict:
        with self.lock:
            self._clock += 1
            ticket = {"id": ticket_id, "subject": subject, "description": description, "status": "new", "tags": [],
                      "group_id": None, "assignee_id": None, "custom_fields": [{"id": 555, "value": None}],
                      "created_at": iso(self._clock), "updated_at": iso(self._clock), "via": {"channel": "email"}}
            ticket.update(fields)
            self.tickets[ticket_id] = ticket
            return ticket

    # the team: the API the assignment scenario tests share with FakeFreshdesk

    def add_group(self, group_id: int, name: str) -> dict:
        with self.lock:
            for group in self.groups:
                if group["id"] == group_id:
                    group.update(name=name, deleted=False)
                    return group
            group = {"id": group_id, "name": name, "deleted": False}
            self.groups.append(group)
            return group

    def add_agent(self, agent_id: int, name: str, groups: list[int], available: bool = True, open_tickets: int = 0,
                  active: bool = True) -> dict:
        """An agent (a user with role agent) in `groups`, with `open_tickets` open tickets assigned."""
        with self.lock:
            self.ensure_groups(groups)
            self.users = [u for u in self.users if u["id"] != agent_id]
            user = {"id": agent_id, "name": name, "role": "agent", "active": active, "suspended": False}
            self.users.append(user)
            for position, group_id in enumerate(groups):
                self.memberships.append({"id": next(self._membership_ids), "user_id": agent_id, "group_id": group_id,
                                         "default": position == 0})
            self.availability[agent_id] = available
            for _ in range(open_tickets):
                self.add_ticket(next(self._ids), status="open", assignee_id=agent_id,
                                group_id=groups[0] if groups else None)
            return user

    def set_available(self, agent_id: int, available: bool) -> None:
        with self.lock:
            self.availability[agent_id] = available

    def solve_for(self, agent_id: int, n: int) -> list[int]:
        """Mark n of the agent's open tickets solved; their ids."""
        with self.lock:
            mine = [t for t in self.tickets.values()
                    if t.get("assignee_id") == agent_id and t["status"] in OPEN_STATUSES]
            solved = []
            for ticket in mine[:n]:
                self._write(ticket, {"status": "solved"})
                solved.append(ticket["id"])
            return solved

    def open_count(self, agent_id: int) -> int:
        """The truth: the agent's new, open and pending tickets."""
        with self.lock:
            return sum(1 for t in self.tickets.values()
                       if t.get("assignee_id") is not None and int(t["assignee_id"]) == int(agent_id)
                       and t.get("status") in OPEN_STATUSES)

    def route(self, method, path, query, body):
        with self.lock:
            if method == "PUT" and path.startswith("/api/v2/tickets/"):
                return self._update(int(path.split("/")[4].removesuffix(".json")), body)
            if self.random_429 and self.rng.random() < self.random_429:
                return 429, {"error": "TooManyRequests"}, {"Retry-After": "1"}
            if method == "GET" and path.startswith("/api/v2/tickets/"):
                ticket = self.tickets.get(int(path.split("/")[4].removesuffix(".json")))
                if ticket is None:
                    return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
                return 200, {"ticket": ticket}, {}
            if path == "/api/v2/incremental/tickets/cursor.json":
                return self._export(query)
            if path == "/api/v2/groups.json":
                return 200, {"groups": self.groups, "meta": {"has_more": False}, "links": {"next": None}}, {}
            if path == "/api/v2/users.json":
                roles = query.get("role[]") or query.get("role") or ["agent", "admin", "end-user"]
                users = [u for u in self.users if u["role"] in roles]
                return 200, {"users": users, "meta": {"has_more": False}, "links": {"next": None}}, {}
            if path == "/api/v2/ticket_fields.json":
                return 200, {"ticket_fields": self.ticket_fields, "meta": {"has_more": False}, "links": {"next": None}}, {}
            if method == "GET" and (match := re.fullmatch(r"/api/v2/groups/(\d+)/memberships(?:\.json)?", path)):
                return self._memberships(int(match.group(1)), query)
            if method == "GET" and path in ("/api/v2/users/show_many.json", "/api/v2/users/show_many"):
                ids = {int(i) for i in (query.get("ids") or [""])[0].split(",") if i.strip()}
                return 200, {"users": [u for u in self.users if u["id"] in ids]}, {}
            if method == "GET" and path.startswith("/api/v2/agent_availabilities"):
                return self._availabilities(path, query)
            if method == "GET" and path in ("/api/v2/search/count.json", "/api/v2/search/count"):
                return self._search_count((query.get("query") or [""])[0])
            if path == "/api/v2/users/me.json":
                return 200, {"user": {"id": 7002, "name": "Ada Admin", "role": "admin"}}, {}
            return 404, {"error": "InvalidEndpoint", "description": f"no {method} {path}"}, {}

    def _update(self, ticket_id: int, body: dict):
        now = time.monotonic()
        self.update_window.add(now)
        if self.update_limit is not None and self.update_window.count(now) > self.update_limit:
            return 429, {"error": "TooManyRequests", "description": "ticket update limit"}, {"Retry-After": "5"}
        if self.random_429 and self.rng.random() < self.random_429:
            return 429, {"error": "TooManyRequests"}, {"Retry-After": "1"}
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        if ticket_id in self.agent_edits:
            self._write(ticket, self.agent_edits.pop(ticket_id))
        change = dict((body or {}).get("ticket") or {})
        if change.pop("safe_update", False) and change.pop("updated_stamp", None) != ticket["updated_at"]:
            return 409, {"error": "UpdateConflict", "description": "Safe Update prevented the update due to "
                         "outdated ticket data. Please fetch the latest ticket data and try again."}, {}
        change.pop("updated_stamp", None)
        for key, known in (("group_id", {g["id"] for g in self.groups if not g["deleted"]}),
                           ("assignee_id", {u["id"] for u in self.users if u["role"] != "end-user"})):
            if key in change and change[key] is not None and int(change[key]) not in known:
                return 422, {"error": "RecordInvalid", "description": "Record validation errors",
                             "details": {key: [{"description": f"{key} is invalid"}]}}, {}
        self._write(ticket, change)
        self.applied[ticket_id] = self.applied.get(ticket_id, 0) + 1
        return 200, {"ticket": ticket, "audit": {"ticket_id": ticket_id, "events": []}}, {}

    def _write(self, ticket: dict, change: dict) -> None:
        change = dict(change)
        comment = change.pop("comment", None)
        if comment:
            self.comments.setdefault(ticket["id"], []).append(comment)
        for tag in change.pop("additional_tags", []) or []:
            if tag not in ticket["tags"]:
                ticket["tags"].append(tag)
        for field in change.pop("custom_fields", []) or []:
            for current in ticket["custom_fields"]:
                if current["id"] == field["id"]:
                    current["value"] = field["value"]
        ticket.update(change)
        self._clock += 1
        ticket["updated_at"] = iso(self._clock)

    def _export(self, query):
        """Cursor-based incremental export: tickets updated at or after start_time, oldest first.
        The cursor is opaque to clients; here it carries the start time and the offset."""
        if "cursor" in query:
            start_time, offset = map(int, base64.urlsafe_b64decode(query["cursor"][0]).decode().split(":"))
        else:
            start_time, offset = int(query["start_time"][0]), 0
        rows = sorted((t for t in self.tickets.values() if _epoch(t["updated_at"]) >= start_time),
                      key=lambda t: (t["updated_at"], t["id"]))
        page = rows[offset:offset + self.page_size]
        end = offset + self.page_size >= len(rows)
        after = base64.urlsafe_b64encode(f"{start_time}:{offset + len(page)}".encode()).decode()
        return 200, {"tickets": page, "after_cursor": after,
                     "after_url": f"{self.url}/api/v2/incremental/tickets/cursor.json?cursor={after}",
                     "before_cursor": None, "before_url": None, "end_of_stream": end}, {}


    def _memberships(self, group_id: int, query):
        """List Memberships (cursor pagination): page[size], page[after]; meta.has_more and links.next."""
        if group_id not in {g["id"] for g in self.groups}:
            return 404, {"error": "RecordNotFound", "description": "Not found"}, {}
        rows = [m for m in self.memberships if m["group_id"] == group_id]
        page, more, after = self._cursor_page(rows, query)
        path = f"/api/v2/groups/{group_id}/memberships.json"
        return 200, {"group_memberships": page,
                     "meta": {"has_more": more, "after_cursor": after, "before_cursor": None},
                     "links": {"next": f"{self.url}{path}?page[size]={len(page)}&page[after]={after}" if more else None,
                               "prev": None}}, {}

    def _availabilities(self, path: str, query):
        """Agent Availability API (JSON:API): list with cursor pages, or one agent's availability."""
        if not self.availability_api:
            return 404, {"errors": [{"code": "NotFound", "title": "Not Found"}]}, {}
        agent_ids = [u["id"] for u in self.users if u["role"] in ("agent", "admin") and u["id"] in self.availability]
        rest = path.removeprefix("/api/v2/agent_availabilities").removesuffix(".json").strip("/")
        if rest:
            if not rest.isdigit() or int(rest) not in agent_ids:
                return 404, {"errors": [{"code": "NotFound", "title": "Not Found"}]}, {}
            return 200, {"data": self._availability_of(int(rest))}, {}
        page, more, after = self._cursor_page(agent_ids, query)
        return 200, {"data": [self._availability_of(agent_id) for agent_id in page],
                     "links": {"first": None, "last": None, "prev": None,
                               "next": (f"{self.url}/api/v2/agent_availabilities?page[size]={len(page)}"
                                        f"&page[after]={after}") if more else None},
                     "meta": {"has_more": more, "after_cursor": after, "before_cursor": None}}, {}

    def _availability_of(self, agent_id: int) -> dict:
        groups = [m["group_id"] for m in self.memberships if m["user_id"] == agent_id]
        status = dict(ONLINE if self.availability.get(agent_id) else OFFLINE, reason="AGENT_STATUS_SWITCHER",
                      updated_at="2024-01-01T00:00:00Z")
        return {"type": "agent_availabilities", "id": f"agent_availabilities|{agent_id}",
                "attributes": {"agent_id": agent_id, "agent_status": status, "group_ids": groups, "skills": [],
                               "version": 1}}

    def _cursor_page(self, rows: list, query) -> tuple[list, bool, str | None]:
        size = min(int((query.get("page[size]") or ["100"])[0]), self.list_page_size)
        offset = int(base64.urlsafe_b64decode(query["page[after]"][0]).decode()) if query.get("page[after]") else 0
        page = rows[offset:offset + size]
        more = offset + size < len(rows)
        after = base64.urlsafe_b64encode(str(offset + len(page)).encode()).decode() if page else None
        return page, more, after

    def _search_count(self, text: str):
        """Search count for ticket queries: type:ticket, assignee:<id>, group:<id>, status:<s>, status<s, status>s."""
        checks = []
        for term in text.split():
            match = re.fullmatch(r"(type|assignee|group|status)([:<>])(\w+)", term)
            if match is None:
                return 400, {"error": "InvalidQuery", "description": f"unsupported term {term!r}"}, {}
            key, op, value = match.groups()
            if key == "type":
                if value != "ticket":
                    return 400, {"error": "InvalidQuery", "description": "only type:ticket here"}, {}
                continue
            if key == "status":
                if value not in STATUS_ORDER:
                    return 400, {"error": "InvalidQuery", "description": f"unknown status {value}"}, {}
                rank = STATUS_ORDER.index(value)
                checks.append(lambda t, op=op, rank=rank: {":": rank == STATUS_ORDER.index(t["status"]),
                                                          "<": STATUS_ORDER.index(t["status"]) < rank,
                                                          ">": STATUS_ORDER.index(t["status"]) > rank}[op])
            else:
                field = "assignee_id" if key == "assignee" else "group_id"
                checks.append(lambda t, field=field, value=value: str(t.get(field)) == value)
        return 200, {"count": sum(1 for t in self.tickets.values() if all(check(t) for check in checks))}, {}


def _epoch(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
