"""A fake Freshdesk API v2 (tickets GET/PUT, notes, conversations, the `updated_since` list with `page` and
a `Link: <...>; rel="next"` header, groups, agents, ticket_fields, basic auth with the API key and "X",
400/401/404/429 with Retry-After), for tests. Every request is recorded; `fail(...)` scripts answers.
"""
from __future__ import annotations

from fake_helpdesk_server import FakeServer, basic_auth, iso

API_KEY = "freshdesk-api-key"
EPOCH = 1_700_000_000
STATUS_OPEN, STATUS_PENDING, STATUS_RESOLVED, STATUS_CLOSED = 2, 3, 4, 5


class FakeFreshdesk(FakeServer):
    def __init__(self, per_page_max: int = 100):
        super().__init__()
        self.tickets: dict[int, dict] = {}
        self.notes: dict[int, list[dict]] = {}
        self.groups = [{"id": 43000000100, "name": "Billing"}, {"id": 43000000200, "name": "Shipping"}]
        self.agents = [{"id": 43000007001, "contact": {"name": "Ana Agent", "email": "ana@example.com"}}]
        self.ticket_fields = [{"id": 1, "name": "cf_category", "label": "Category", "type": "custom_dropdown",
                               "choices": ["Refund", "Billing"]},
                              {"id": 2, "name": "subject", "label": "Subject", "type": "default_subject"}]
        self.per_page_max = per_page_max
        self._clock = EPOCH

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
            if parts[2:] == ["agents"]:
                return 200, self.agents, {}
            if parts[2:] == ["agents", "me"]:
                return 200, self.agents[0], {}
            if parts[2:] == ["ticket_fields"]:
                return 200, self.ticket_fields, {}
            return 404, None, {}

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
