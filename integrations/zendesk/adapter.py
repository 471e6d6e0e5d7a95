"""Zendesk through zenpy: fetch a ticket, apply a route with safe_update, page through history, list what exists.

Applying a route is one `PUT /api/v2/tickets/{id}` with `safe_update: true` and the `updated_stamp` we
read, so Zendesk answers 409 if anyone wrote in between; then we re-read, and `route_plan` decides what
is still ours to write (nothing, if an agent routed the ticket). Tags go in `additional_tags`, which
adds to the ticket's tags and never replaces them; the note is a private comment in the same update.

zenpy hands back the raw `requests.Response` for a 2xx answer it cannot read (`{}`, a proxy's HTML page, JSON
cut short) and fails on it later with an AttributeError; every read here checks the answer's shape first and
raises `UnexpectedAnswer` naming the endpoint. A catalog list of the wrong shape leaves that part unconfirmed
(the route skips the group or assignee and writes the rest); a ticket of the wrong shape stops the write.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator

import requests
from zenpy import Zenpy
from zenpy.lib.exception import ZenpyException
from zenpy.lib.api_objects import Comment, Ticket as ZenpyTicket

from classifier.ticket import Ticket
from integrations.assignment import Assigner, settle_assignee
from integrations.base import Catalog, HistoryPage, HistoryTicket, TicketField, WebhookMixin
from integrations.catalog_cache import CachedCatalog, confirmed, item_key
from integrations.errors import Conflict, UnexpectedAnswer
from integrations.route import Route
from integrations.route_plan import TicketState, plan_route, unconfirmed
from integrations.zendesk.errors import translated

HELPDESK = "zendesk"
MAX_CONFLICTS = 3  # then the delivery is retried later like any transient failure
HISTORY_STATUSES = ("solved", "closed")
CLOSED_STATUSES = ("solved", "closed")  # a waiting ticket solved meanwhile needs no assignee
GROUPS, AGENTS, FIELDS = "GET /api/v2/groups.json", "GET /api/v2/users.json", "GET /api/v2/ticket_fields.json"


class ZendeskAdapter(WebhookMixin):
    key = HELPDESK
    dry_run = False

    def __init__(self, zenpy: Zenpy, catalog: CachedCatalog | None = None, assigner: Assigner | None = None):
        self.zenpy = zenpy
        self.catalog_cache = catalog or CachedCatalog(self._load_catalog)
        self.assigner = assigner  # for assignees that are rules (least_loaded, round_robin)

    def fetch_ticket(self, external_id: str) -> Ticket:
        return ticket_from_raw(self._read(external_id))

    def apply(self, external_id: str, route: Route) -> dict:
        # first, so a delivery deferred for want of budget has spent no call on catalog or ticket reads
        self.zenpy.tickets.session.require_budget("PUT", f"/api/v2/tickets/{external_id}.json")  # GuardedSession
        needs_catalog = route.group is not None or route.assignee is not None or _field_by_name(route)
        catalog = self.catalog_cache.get() if needs_catalog else None
        field_id = _field_id(route, catalog)
        first = current = self._read(external_id)
        conflicts = 0
        while True:
            before = _state(first, field_id) if conflicts else None
            plan = plan_route(route, _state(current, field_id), catalog, before=before)
            if field_id is None and route.field:
                why = unconfirmed(catalog, "fields")
                plan.skipped.append(f"field: {route.field} could not be confirmed ({why})" if why
                                    else f"field: {route.field} does not exist in Zendesk")
            choice = settle_assignee(self.assigner, plan, route, external_id, catalog.groups if catalog else None,
                                     closed=current.get("status") in CLOSED_STATUSES)
            if plan.empty:
                return _result(external_id, None, plan.skipped, conflicts, choice)
            update = _update(external_id, plan, field_id, current["updated_at"])
            written = update.to_dict(serialize=True)  # before the call: zenpy forgets it once sent
            try:
                with translated():
                    self.zenpy.tickets.update(update)
                if self.assigner is not None:
                    self.assigner.confirm(external_id, choice)
                return _result(external_id, written, plan.skipped, conflicts, choice)
            except Conflict:
                conflicts += 1
                if conflicts >= MAX_CONFLICTS:
                    raise
                current = self._read(external_id)

    def history(self, since: datetime, cursor: str | None = None) -> Iterator[HistoryPage]:
        """Cursor-based incremental export; only solved and closed tickets are kept."""
        while True:
            with translated():
                if cursor:
                    page = self.zenpy.tickets.incremental(cursor=cursor)
                else:
                    page = self.zenpy.tickets.incremental(start_time=int(since.timestamp()))
                rows = [t.to_dict() for t in (page.values or [])]
            tickets = [_history_ticket(raw) for raw in rows if raw.get("status") in HISTORY_STATUSES]
            cursor = getattr(page, "after_cursor", None) or cursor
            done = bool(getattr(page, "end_of_stream", True))
            yield HistoryPage(tickets=tickets, cursor=cursor, done=done)
            if done:
                return

    def catalog(self) -> Catalog:
        """Every part read, or the error naming the endpoint that answered in the wrong shape (routing check)."""
        return confirmed(HELPDESK, self.catalog_cache.get())

    def _load_catalog(self) -> Catalog:
        """Groups, agents and fields, each read on its own: one answered in the wrong shape is left unconfirmed."""
        missing: dict[str, str] = {}
        groups = _part("groups", GROUPS, self.zenpy.groups, lambda rows: {
            item_key(g): g.get("name") or "" for g in rows if not g.get("deleted")}, missing)
        agents = _part("agents", AGENTS, lambda: self.zenpy.users(role=["agent", "admin"]), lambda rows: {
            item_key(u): u.get("name") or "" for u in rows}, missing)
        fields = _part("fields", FIELDS, self.zenpy.ticket_fields, lambda rows: {
            item_key(f): TicketField(item_key(f), f.get("title") or "", frozenset(
                str(o.get("value")) for o in f.get("custom_field_options") or [])) for f in rows}, missing)
        return Catalog(groups=groups, agents=agents, fields=fields, unconfirmed=missing)

    def _read(self, external_id: str) -> dict:
        endpoint = f"GET /api/v2/tickets/{int(external_id)}.json"
        with translated(), _shape(endpoint):
            raw = _readable(endpoint, self.zenpy.tickets(id=int(external_id))).to_dict()
        if raw.get("id") is None or not raw.get("updated_at"):
            raise UnexpectedAnswer(HELPDESK, endpoint, "the ticket has no id or updated_at")
        return raw


@contextmanager
def _shape(endpoint: str) -> Iterator[None]:
    """What zenpy (or our reading of its objects) raises on an answer of the wrong shape, as `UnexpectedAnswer`."""
    try:
        yield
    except (AttributeError, KeyError, TypeError, ValueError, ZenpyException) as exc:
        raise UnexpectedAnswer(HELPDESK, endpoint, f"{type(exc).__name__}: {str(exc)[:120]}") from None


def _readable(endpoint: str, answer):
    """zenpy's answer, unless it is the raw response zenpy returns for a body it could not read."""
    if isinstance(answer, requests.Response):
        kind = (answer.headers.get("Content-Type") or "no content type").split(";")[0]
        try:
            body = answer.json()
        except ValueError:
            raise UnexpectedAnswer(HELPDESK, endpoint, f"not JSON ({kind}, {len(answer.content)} bytes)") from None
        keys = ", ".join(sorted(body)[:8]) if isinstance(body, dict) else type(body).__name__
        raise UnexpectedAnswer(HELPDESK, endpoint, f"JSON without the expected keys ({keys or 'empty'})")
    return answer


def _part(name: str, endpoint: str, read: Callable, build: Callable[[list[dict]], dict], missing: dict) -> dict:
    """One catalog list; on an answer of the wrong shape, {} and the reason in `missing[name]`."""
    try:
        with translated(), _shape(endpoint):
            return build([item.to_dict() for item in _readable(endpoint, read())])
    except UnexpectedAnswer as exc:
        missing[name] = exc.detail
        return {}


def _update(external_id: str, plan, field_id: str | None, updated_at: str) -> ZenpyTicket:
    update = ZenpyTicket(id=int(external_id))
    update.safe_update, update.updated_stamp = True, updated_at
    if plan.add_tags:
        update.additional_tags = plan.add_tags
    if plan.group is not None:
        update.group_id = int(plan.group)
    if plan.assignee is not None:
        update.assignee_id = int(plan.assignee)
    if plan.field_value is not None and field_id is not None:
        update.custom_fields = [{"id": int(field_id), "value": plan.field_value}]
    if plan.note:
        update.comment = Comment(body=plan.note, public=False)
    return update


def _result(external_id: str, written: dict | None, skipped: list[str], conflicts: int, choice=None) -> dict:
    result = {"helpdesk": HELPDESK, "ticket": external_id, "written": written, "skipped": skipped,
              "conflicts": conflicts}
    if choice is not None:
        result["assignment"] = choice.to_dict()
    return result


def _field_by_name(route: Route) -> bool:
    return bool(route.field and "id" not in route.field and route.field.get("name"))


def _field_id(route: Route, catalog: Catalog | None) -> str | None:
    if not route.field:
        return None
    if route.field.get("id") is not None:
        return str(route.field["id"])
    matches = [key for key, field in (catalog.fields if catalog else {}).items() if field.title == route.field.get("name")]
    return matches[0] if len(matches) == 1 else None


def _state(raw: dict, field_id: str | None) -> TicketState:
    value = None
    for field in raw.get("custom_fields") or []:
        if field_id is not None and str(field.get("id")) == field_id:
            value = field.get("value")
    return TicketState(tags=tuple(raw.get("tags") or ()), group=_text(raw.get("group_id")),
                       assignee=_text(raw.get("assignee_id")), field_value=value)


def ticket_from_raw(raw: dict) -> Ticket:
    return Ticket(subject=raw.get("subject") or "", body=raw.get("description") or "",
                  channel=((raw.get("via") or {}).get("channel")), created_at=_when(raw.get("created_at")),
                  tags=tuple(raw.get("tags") or ()))


def _history_ticket(raw: dict) -> HistoryTicket:
    fields = {str(f.get("id")): f.get("value") for f in raw.get("custom_fields") or [] if f.get("value") is not None}
    return HistoryTicket(external_id=str(raw["id"]), ticket=ticket_from_raw(raw), status=raw.get("status") or "",
                         group=_text(raw.get("group_id")), fields=fields, updated_at=_when(raw.get("updated_at")))


def _text(value) -> str | None:
    return None if value is None else str(value)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return None
