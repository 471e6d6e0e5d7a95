"""A fake Freshdesk API v2 (tickets GET/PUT, notes, conversations, the `updated_since` list with `page` and
a `Link: <...>; rel="next"` header, groups, agents, ticket_fields, basic auth with the API key and "X",
400/401/404/429 with Retry-After), for tests. Every request is recorded; `fail(...)` scripts answers.

The team (assignment by load): a group's `agent_ids`, the paged agent list (`available`, `contact.active`,
`deactivated`), the status field's choices (custom statuses) and the ticket search
(`/api/v2/search/tickets?query="..."`: agent_id, group_id, status, AND/OR and parentheses; `{"results",
"total"}`), computed live from the tickets. Shared test API with the Zendesk fake: add_group, add_agent,
set_available, solve_for, open_count.
"""
from __future__ import annotations

import itertools
import re

from fake_helpdesk_server import FakeServer, basic_auth, iso

API_KEY = "freshdesk-api-key"
EPOCH = 1_700_000_000
STATUS_OPEN, STATUS_PENDING, STATUS_RESOLVED, STATUS_CLOSED = 2, 3, 4, 5
SEARCH_PAGE = 30  # the search API answers 30 results a page, at most 10 pages


class FakeFreshdesk(FakeServer):
    def __init__(self, per_page_max: int = 100):
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self.notes: dict[int, list[dict]] = {}
        self.groups = [{"id": 43000000100, "name": "Billing", "agent_ids": []},
                       {"id": 43000000200, "name": "Shipping", "agent_ids": []}]
        self.agents = [{"id": 43000007001, "available": True, "occasional": False,
                        "contact": {"name": "Ana Agent", "email": "ana@example.com", "active": True}}]
        self.ticket_fields = [{"id": 1, "name": "cf_category", "label": "Category", "type": "custom_dropdown",
                               "choices": ["Refund", "Billing"]},
                              {"id": 2, "name": "subject", "label": "Subject", "type": "default_subject"}]
        self.per_page_max = per_page_max
        self._clock = EPOCH
        self.statuses = {2: ["Open", "Being Processed"], 3: ["Pending", "Awaiting your Reply"],
                         4: ["Resolved", "This ticket has been Resolved"], 5: ["Closed", "This ticket has been Closed"]}
        self._ids = itertools.count(900000)

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == basic_auth(API_KEY, "X")

    def add_ticket(self, ticket_id: int, subject="Refund please", description="My order arrived broken", **fields) -> dict:
        with self.lock:
            self._clock += 1
            ticket = {"id": ticket_id, "subject": subject, "description": f"<div>{description}</div>",
                      "description_text": description, "status": STATUS_OPEN, "tags": [], "group_id": None,
                      "responder_id": None, "custom_fields": {"cf_category": None}, "source": 1,
                      "created_at": iso(self._clock), "updated_at": iso(self._clock)}
            ticket.update(fields)
            self.tickets[ticket_id] = ticket
            return ticket

    # the team: the API the assignment scenario tests share with FakeZendesk

    def add_group(self, group_id: int, name: str) -> dict:
        with self.lock:
            for group in self.groups:
                if group["id"] == group_id:
                    group["name"] = name
                    return group
            group = {"id": group_id, "name": name, "agent_ids": []}
            self.groups.append(group)
            return group

    def add_agent(self, agent_id: int, name: str, groups: list[int], available: bool = True, open_tickets: int = 0,
                  active: bool = True) -> dict:
        """An agent (with its contact) in `groups`, with `open_tickets` open tickets as its responder."""
        with self.lock:
            self.ensure_groups(groups)
            for group in self.groups:
                if group["id"] in groups and agent_id not in group["agent_ids"]:
                    group["agent_ids"].append(agent_id)
            self.agents = [a for a in self.agents if a["id"] != agent_id]
            agent = {"id": agent_id, "available": available, "occasional": False, "deactivated": not active,
                     "contact": {"name": name, "email": f"agent{agent_id}@example.com", "active": active}}
            self.agents.append(agent)
            for _ in range(open_tickets):
                self.add_ticket(next(self._ids), status=STATUS_OPEN, responder_id=agent_id,
                                group_id=groups[0] if groups else None)
            return agent

    def set_available(self, agent_id: int, available: bool) -> None:
        with self.lock:
            for agent in self.agents:
                if agent["id"] == agent_id:
                    agent["available"] = available

    def solve_for(self, agent_id: int, n: int) -> list[int]:
        """Mark n of the agent's open tickets resolved (4); their ids."""
        with self.lock:
            mine = [t for t in self.tickets.values() if t.get("responder_id") == agent_id and _is_open(t)]
            for ticket in mine[:n]:
                ticket["status"] = STATUS_RESOLVED
                self._clock += 1
                ticket["updated_at"] = iso(self._clock)
            return [t["id"] for t in mine[:n]]

    def open_count(self, agent_id: int) -> int:
        """The truth: the agent's tickets in open, pending or a custom status (anything but resolved/closed)."""
        with self.lock:
            return sum(1 for t in self.tickets.values()
                       if t.get("responder_id") is not None and int(t["responder_id"]) == int(agent_id) and _is_open(t))

    def route(self, method, path, query, body):
        parts = path.strip("/").split("/")  # api, v2, resource, ...
        with self.lock:
            if parts[2:3] == ["tickets"] and len(parts) == 3 and method == "GET":
                return self._list(query)
            if parts[2:3] == ["tickets"] and len(parts) >= 4:
                ticket = self.tickets.get(int(parts[3]))
                if ticket is None:
                    return 404, None, {}
                if len(parts) == 4 and method == "GET":
                    return 200, ticket, {}
                if len(parts) == 4 and method == "PUT":
                    return self._update(ticket, body or {})
                if parts[4:] == ["notes"] and method == "POST":
                    note = {"id": len(self.notes.get(ticket["id"], [])) + 1, "body": body["body"],
                            "body_text": body["body"], "private": body.get("private", True)}
                    self.notes.setdefault(ticket["id"], []).append(note)
                    return 201, note, {}
                if parts[4:] == ["conversations"] and method == "GET":
                    return 200, self.notes.get(ticket["id"], []), {}
            if parts[2:] == ["groups"]:
                return 200, self.groups, {}
            if parts[2:3] == ["groups"] and len(parts) == 4 and method == "GET":
                group = next((g for g in self.groups if str(g["id"]) == parts[3]), None)
                return (200, group, {}) if group is not None else (404, None, {})
            if parts[2:] == ["agents"]:
                return self._paged(self.agents, "/api/v2/agents", query)
            if parts[2:] == ["agents", "me"]:
                return 200, self.agents[0], {}
            if parts[2:] == ["ticket_fields"]:
                return self._ticket_fields(query)
            if parts[2:] == ["search", "tickets"] and method == "GET":
                return self._search((query.get("query") or [""])[0], int((query.get("page") or ["1"])[0]))
            return 404, None, {}

    def _paged(self, rows: list, path: str, query):
        page = int(query.get("page", ["1"])[0])
        per_page = min(int(query.get("per_page", ["30"])[0]), self.per_page_max)
        headers = {}
        if page * per_page < len(rows):
            headers["Link"] = f'<{self.url}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, rows[(page - 1) * per_page: page * per_page], headers

    def _ticket_fields(self, query):
        status = {"id": 3, "name": "status", "label": "Status", "type": "default_status",
                  "choices": {str(k): v for k, v in self.statuses.items()}}
        fields = self.ticket_fields + [status]
        if query.get("type"):
            return 200, [f for f in fields if f["type"] == query["type"][0]], {}
        return 200, self.ticket_fields, {}  # the catalog's fields, as before

    def _search(self, text: str, page: int):
        """Filter tickets: the query in double quotes, terms field:value joined by AND/OR with parentheses."""
        if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
            return 400, {"description": "Validation failed", "errors": [
                {"field": "query", "message": "Query should be enclosed in double quotes",
                 "code": "invalid_value"}]}, {}
        if not 1 <= page <= 10:
            return 400, {"description": "Validation failed", "errors": [
                {"field": "page", "message": "It should be a Positive Number less than or equal to 10",
                 "code": "invalid_value"}]}, {}
        try:
            matches = _parse_query(text[1:-1])
        except ValueError as exc:
            return 400, {"description": "Validation failed", "errors": [
                {"field": "query", "message": str(exc), "code": "invalid_value"}]}, {}
        rows = sorted((t for t in self.tickets.values() if matches(t)), key=lambda t: t["id"])
        return 200, {"results": rows[(page - 1) * SEARCH_PAGE: page * SEARCH_PAGE], "total": len(rows)}, {}

    def _update(self, ticket: dict, change: dict):
        change = dict(change)  # the recorded request keeps what was sent
        errors = []
        if change.get("group_id") is not None and change["group_id"] not in {g["id"] for g in self.groups}:
            errors.append({"field": "group_id", "message": "There is no group matching the given group_id",
                           "code": "invalid_value"})
        if change.get("responder_id") is not None and change["responder_id"] not in {a["id"] for a in self.agents}:
            errors.append({"field": "responder_id", "message": "There is no agent matching the given responder_id",
                           "code": "invalid_value"})
        if errors:
            return 400, {"description": "Validation failed", "errors": errors}, {}
        custom = change.pop("custom_fields", None)
        ticket.update(change)
        if custom:
            ticket["custom_fields"].update(custom)
        self._clock += 1
        ticket["updated_at"] = iso(self._clock)
        return 200, ticket, {}

    def _list(self, query):
        """`updated_since` (ISO), `order_by=updated_at`, `order_type=asc`, `page`, `per_page` and Link rel=next."""
        since = query.get("updated_since", [iso(0)])[0]
        page = int(query.get("page", ["1"])[0])
        per_page = min(int(query.get("per_page", ["30"])[0]), self.per_page_max)
        rows = sorted((t for t in self.tickets.values() if t["updated_at"] >= since),
                      key=lambda t: (t["updated_at"], t["id"]))
        chunk = rows[(page - 1) * per_page: page * per_page]
        include = "description" in (query.get("include") or [""])[0]
        body = [dict(t) if include else {k: v for k, v in t.items() if k not in ("description", "description_text")}
                for t in chunk]
        headers = {}
        if page * per_page < len(rows):
            headers["Link"] = (f'<{self.url}/api/v2/tickets?updated_since={since}&order_by=updated_at&order_type=asc'
                               f'&per_page={per_page}&page={page + 1}>; rel="next"')
        return 200, body, headers


def _is_open(ticket: dict) -> bool:
    return ticket.get("status") not in (STATUS_RESOLVED, STATUS_CLOSED)


SEARCH_FIELDS = {"agent_id": "responder_id", "group_id": "group_id", "status": "status", "priority": "priority"}


def _parse_query(text: str):
    """`a:1 AND (b:2 OR b:3)` -> a predicate over a ticket dict (AND binds tighter than OR, as Freshdesk's)."""
    tokens = re.findall(r"\(|\)|\w+:(?:null|\d+)|AND|OR|\S+", text)
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def term():
        token = take() if peek() else None
        if token == "(":
            inner = either()
            closing = take() if peek() else None
            if closing != ")":
                raise ValueError("unbalanced parentheses")
            return inner
        match = re.fullmatch(r"(\w+):(null|\d+)", token or "")
        if match is None or match.group(1) not in SEARCH_FIELDS:
            raise ValueError(f"invalid term {token!r}")
        field, value = SEARCH_FIELDS[match.group(1)], None if match.group(2) == "null" else int(match.group(2))
        if value is None:
            return lambda t: t.get(field) is None
        return lambda t: t.get(field) is not None and int(t[field]) == value

    def both():
        parts = [term()]
        while peek() == "AND":
            take()
            parts.append(term())
        return lambda t: all(p(t) for p in parts)

    def either():
        parts = [both()]
        while peek() == "OR":
            take()
            parts.append(both())
        return lambda t: any(p(t) for p in parts)

    predicate = either()
    if peek() is not None:
        raise ValueError(f"unexpected {peek()!r}")
    return predicate
