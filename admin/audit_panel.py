"""The page's audit section: who did what and when, newest first, paged and filtered on the server.

Filters (query string `audit.*`, admin.paging): `actor` (anyone the trail names), `action` (store.audit.ACTIONS),
`age` (entries of the last hour, day, week or month) and a search in the target (a ticket id, `model:v3`, an agent).
Each entry shows what changed as "field: before → after", and a link to the ticket where the target is one.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from admin.paging import Filter, fetch_page, read_page, search_clause
from integrations.links import ticket_url
from store import audit
from store.models import AuditEntry

TABLE = "audit"
WITHIN = (("1h", "last hour", timedelta(hours=1)), ("1d", "last day", timedelta(days=1)),
          ("7d", "last 7 days", timedelta(days=7)), ("30d", "last 30 days", timedelta(days=30)))
ACTION_FILTER = Filter("action", "action", tuple((name, name) for name in audit.ACTIONS))
AGE_FILTER = Filter("age", "when", tuple((value, label) for value, label, _ in WITHIN))


def since(value: str | None, now: datetime) -> datetime | None:
    """The age filter's value as the oldest moment shown (None: no age filter)."""
    for name, _, age in WITHIN:
        if value == name:
            return now - age
    return None


def audit_page(session: Session, args, now: datetime, settings, strict: bool = False) -> dict:
    """One page of the trail as asked in the query string, its rows ready to draw, and the entries in all."""
    # the page offers whoever the trail names; a script may name anyone (no entries yet is an empty page, not a 400)
    actors = None if strict else tuple((name, name) for name in audit.actors(session))
    query = read_page(args, TABLE, [Filter("actor", "who", actors), ACTION_FILTER, AGE_FILTER], strict=strict)
    filters = audit.Filters(actor=query.get("actor"), action=query.get("action"), since=since(query.get("age"), now))
    stmt = audit.select_entries(filters).where(search_clause(query.search, AuditEntry.target, AuditEntry.target))
    page = fetch_page(session, stmt, query, scalars=True)
    page.overall = audit.count(session) if query.active else page.total
    page.rows = [entry_row(entry, settings) for entry in page.rows]
    return {"page": page, "rows": page.rows, "total": page.overall}


def entry_row(entry: AuditEntry, settings) -> dict[str, Any]:
    row = audit.as_dict(entry)
    row["at_time"] = entry.at
    row["changes"] = changes(entry.before, entry.after)
    helpdesk, _, external_id = entry.target.partition(":")
    row["url"] = ticket_url(helpdesk, external_id, settings) if external_id else None
    return row


def changes(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field either side names, in the order they were written."""
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [(name, _shown(before.get(name)), _shown(after.get(name))) for name in names]


def _shown(value: object) -> str:
    return "—" if value is None else str(value)[:120]
