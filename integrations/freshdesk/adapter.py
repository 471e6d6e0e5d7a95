"""Freshdesk API v2: fetch a ticket, apply a route, page through history, list what exists.

Freshdesk has no optimistic locking and its PUT replaces the tag list, so applying a route re-reads the
ticket right before writing: tags are the ticket's current tags plus ours, and group and responder are
left alone once a person has taken the ticket (see `route_plan`). The private note is posted before
the PUT that adds our tag, and only if the ticket has no such note yet, so a repeated apply adds none.

Every read checks the answer's shape and raises `UnexpectedAnswer` naming the endpoint: a ticket without its
tag list would make the PUT drop the agents' tags, so it stops the write; a group or agent list of the wrong
shape leaves that part of the catalog unconfirmed, and the route skips the group or responder and writes the rest.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Callable, Iterator

from classifier.ticket import Ticket
from integrations.assignment import Assigner, settle_assignee
from integrations.base import Catalog, HistoryPage, HistoryTicket, TicketField, WebhookMixin
from integrations.catalog_cache import CachedCatalog, confirmed, item_key
from integrations.errors import UnexpectedAnswer
from integrations.freshdesk.client import FreshdeskClient
from integrations.route import Route
from integrations.route_plan import TicketState, plan_route

HELPDESK = "freshdesk"
STATUS_NAMES = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}
HISTORY_STATUSES = (4, 5)
CLOSED_STATUSES = (4, 5)  # resolved, closed: a waiting ticket resolved meanwhile needs no responder
MAX_PAGE = 300  # Freshdesk refuses `page` above 300: we restart from the last `updated_at` instead
SOURCES = {1: "email", 2: "portal", 3: "phone", 7: "chat", 9: "feedback_widget", 10: "outbound_email"}


class FreshdeskAdapter(WebhookMixin):
    key = HELPDESK
    dry_run = False

    def __init__(self, client: FreshdeskClient, catalog: CachedCatalog | None = None,
                 assigner: Assigner | None = None):
        self.client = client
        self.catalog_cache = catalog or CachedCatalog(self._load_catalog)
        self.assigner = assigner  # for assignees that are rules (least_loaded, round_robin)

    def fetch_ticket(self, external_id: str) -> Ticket:
        return ticket_from_raw(self._read(external_id))

    def apply(self, external_id: str, route: Route) -> dict:
        # first, so a delivery deferred for want of budget has spent no call on catalog or ticket reads
        self.client.session.require_budget("PUT", f"/api/v2/tickets/{external_id}")
        catalog = self.catalog_cache.get() if route.group is not None or route.assignee is not None else None
        field_name = (route.field or {}).get("name")
        current = self._read(external_id)  # re-read right before writing group or responder
        state = TicketState(tags=tuple(current.get("tags") or ()), group=_text(current.get("group_id")),
                            assignee=_text(current.get("responder_id")),
                            field_value=(current.get("custom_fields") or {}).get(field_name) if field_name else None)
        plan = plan_route(route, state, catalog)
        if route.field and not field_name:
            plan.skipped.append("field: Freshdesk fields are set by name (cf_...)")
            plan.field_value = None
        choice = settle_assignee(self.assigner, plan, route, external_id, catalog.groups if catalog else None,
                                 closed=current.get("status") in CLOSED_STATUSES)
        if plan.empty:
            return _result(external_id, None, None, plan.skipped, choice)
        note = None
        if plan.note and not self._has_note(external_id, plan.note):
            note = {"body": plan.note, "private": True}
            self.client.post(f"/api/v2/tickets/{external_id}/notes", note)
        update: dict = {}
        if plan.add_tags:
            update["tags"] = list(state.tags) + plan.add_tags
        if plan.group is not None:
            update["group_id"] = int(plan.group)
        if plan.assignee is not None:
            update["responder_id"] = int(plan.assignee)
        if plan.field_value is not None:
            update["custom_fields"] = {field_name: plan.field_value}
        if update:
            self.client.put(f"/api/v2/tickets/{external_id}", update)
        if self.assigner is not None and "responder_id" in update:
            self.assigner.confirm(external_id, choice)
        return _result(external_id, update or None, note, plan.skipped, choice)

    def history(self, since: datetime, cursor: str | None = None) -> Iterator[HistoryPage]:
        """The ticket list by `updated_since`, oldest first; the cursor is the page we are at."""
        position = json.loads(cursor) if cursor else {"since": _iso(since), "page": 1}
        while True:
            rows, next_url = self.client.page("/api/v2/tickets", updated_since=position["since"], page=position["page"],
                                              per_page=100, order_by="updated_at", order_type="asc",
                                              include="description")
            tickets = [_history_ticket(raw) for raw in rows if raw.get("status") in HISTORY_STATUSES]
            done = next_url is None
            if not done and position["page"] >= MAX_PAGE:
                position = {"since": rows[-1]["updated_at"], "page": 1}
            elif not done:
                position = {"since": position["since"], "page": position["page"] + 1}
            yield HistoryPage(tickets=tickets, cursor=json.dumps(position), done=done)
            if done:
                return

    def catalog(self) -> Catalog:
        """Every part read, or the error naming the endpoint that answered in the wrong shape (routing check)."""
        return confirmed(HELPDESK, self.catalog_cache.get())

    def _load_catalog(self) -> Catalog:
        """Groups, agents and fields, each read on its own: one answered in the wrong shape is left unconfirmed."""
        missing: dict[str, str] = {}
        groups = _part("groups", "GET /api/v2/groups", lambda: list(self.client.all("/api/v2/groups", strict=True)),
                       lambda rows: {item_key(g): g.get("name") or "" for g in rows}, missing)
        agents = _part("agents", "GET /api/v2/agents", lambda: list(self.client.all("/api/v2/agents", strict=True)),
                       lambda rows: {item_key(a): (a.get("contact") or {}).get("name") or "" for a in rows}, missing)
        fields = _part("fields", "GET /api/v2/ticket_fields", lambda: self.client.get("/api/v2/ticket_fields"),
                       _fields, missing)
        return Catalog(groups=groups, agents=agents, fields=fields, unconfirmed=missing)

    def _read(self, external_id: str) -> dict:
        path = f"/api/v2/tickets/{int(external_id)}"
        raw = self.client.get(path)
        if not isinstance(raw, dict) or raw.get("id") is None or not isinstance(raw.get("tags"), list) \
                or not isinstance(raw.get("custom_fields") or {}, dict):
            raise UnexpectedAnswer(HELPDESK, f"GET {path}", "not a ticket with its id, tag list and custom fields")
        return raw

    def _has_note(self, external_id: str, text: str) -> bool:
        path = f"/api/v2/tickets/{external_id}/conversations"
        conversations = self.client.get(path)
        if not isinstance(conversations, list) or not all(isinstance(c, dict) for c in conversations):
            raise UnexpectedAnswer(HELPDESK, f"GET {path}", "not a list of conversations")
        return any(c.get("private") and (c.get("body_text") or c.get("body")) == text for c in conversations)


def _part(name: str, endpoint: str, read: Callable[[], object], build: Callable[[list], dict], missing: dict) -> dict:
    """One catalog list; on an answer of the wrong shape, {} and the reason in `missing[name]`."""
    try:
        rows = read()
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise UnexpectedAnswer(HELPDESK, endpoint, "not a list of objects")
        try:
            return build(rows)
        except (AttributeError, KeyError, TypeError) as exc:
            raise UnexpectedAnswer(HELPDESK, endpoint, f"{type(exc).__name__}: {str(exc)[:120]}") from None
    except UnexpectedAnswer as exc:
        missing[name] = exc.detail
        return {}


def _fields(rows: list[dict]) -> dict:
    fields = {}
    for f in rows:
        choices = f.get("choices") or []
        options = choices.keys() if isinstance(choices, dict) else [str(c) for c in choices]
        fields[item_key(f, "name")] = TicketField(f["name"], f.get("label") or "", frozenset(options))
    return fields


def _result(external_id: str, written: dict | None, note: dict | None, skipped: list[str], choice=None) -> dict:
    result = {"helpdesk": HELPDESK, "ticket": external_id, "written": written, "note": note, "skipped": skipped}
    if choice is not None:
        result["assignment"] = choice.to_dict()
    return result


def ticket_from_raw(raw: dict) -> Ticket:
    return Ticket(subject=raw.get("subject") or "", body=raw.get("description_text") or raw.get("description") or "",
                  channel=SOURCES.get(raw.get("source")), created_at=_when(raw.get("created_at")),
                  tags=tuple(raw.get("tags") or ()))


def _history_ticket(raw: dict) -> HistoryTicket:
    fields = {k: v for k, v in (raw.get("custom_fields") or {}).items() if v is not None}
    return HistoryTicket(external_id=str(raw["id"]), ticket=ticket_from_raw(raw),
                         status=STATUS_NAMES.get(raw.get("status"), str(raw.get("status"))),
                         group=_text(raw.get("group_id")), fields=fields, updated_at=_when(raw.get("updated_at")))


def _text(value) -> str | None:
    return None if value is None else str(value)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None
