"""A fake Zendesk Support API (the documented shapes: tickets with safe_update, cursor-based incremental
export, groups, users, ticket fields, 401/404/409/422/429), for tests and the write-back benchmark.

Every request is recorded. Knobs: `fail(...)` scripts answers; `agent_edits[id] = {...}` is applied just
before our next PUT to that ticket (an agent who wrote between our read and our write); `update_limit`
answers 429 above that many ticket updates in any 60 s; `random_429` answers 429 to that share of calls.
"""
from __future__ import annotations

import base64
import calendar
import random
import time

from fake_helpdesk_server import FakeServer, SlidingWindow, basic_auth, iso

EMAIL, TOKEN = "bot@example.com", "zendesk-api-token"
EPOCH = 1_700_000_000


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


def _epoch(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
