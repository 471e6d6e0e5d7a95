"""Server-side paging, filters and search for the admin page's tables, read from the query string.

Each table has its own names in the query string (`reviews.page`, `reviews.q`, `reviews.state`, ...), so several
tables page independently on one page, and the page's script refreshes each section with the same query (the
state survives refreshes). Query values are never trusted: a browser gets the defaults for a value it could not
have meant (page `-1`, size `10**40`, an unknown state); a bearer client gets `BadQuery`, which the view answers
with a 400 JSON `{"error", "detail"}`. Nothing here can make the store fail: numbers are bounded before they
reach SQL, search text loses control characters (PostgreSQL refuses NUL) and is cut to `SEARCH_CHARS`.

Use (see `admin.review_panel`):
    q = read_page(args, "reviews", [Filter("helpdesk", "helpdesk", HELPDESKS), AGE_FILTER], strict=bearer)
    stmt = select(...).where(search_clause(q.search, Ticket.external_id, Ticket.subject))
    page = fetch_page(session, stmt, q)      # page.rows, page.total, page.first/last, page.pages
and in a part: `{% from "admin/parts/_paging.html" import filter_form, pager %}`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Sequence
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session

DEFAULT_SIZE = 25
SIZES = (10, 25, 50, 100)  # what the pager offers; any size from 1 to MAX_SIZE is read
MAX_SIZE = 100  # keeps a page's HTML small whatever the queue holds
MAX_PAGE = 1_000_000  # a larger number is the last page anyway; bounded so OFFSET never overflows
SEARCH_CHARS = 100
MAX_CARRIED = 40  # other tables' query values kept in links and forms (a hostile URL cannot grow them)
AGES = (("1h", "over 1 hour", timedelta(hours=1)), ("4h", "over 4 hours", timedelta(hours=4)),
        ("1d", "over 1 day", timedelta(days=1)), ("7d", "over 7 days", timedelta(days=7)))

_NUMBER = re.compile(r"[0-9]{1,9}")
_DIGITS = re.compile(r"[0-9]+")
_ARG = re.compile(r"[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,31}")  # a table's query name: `<table>.<field>`
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_TEXT_VALUE = re.compile(r"[\w .:/@+-]{1,64}")  # a free-text filter value (e.g. a category name)


class BadQuery(ValueError):
    """A query value a bearer client sent that names nothing (the view answers 400)."""

    def __init__(self, name: str, detail: str):
        super().__init__(f"{name}: {detail}")
        self.name, self.detail = name, f"{name}: {detail}"


@dataclass(frozen=True)
class Filter:
    """One filter of a table: `choices` ((value, label), ...) it must be one of, or None for a short free text."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...] | None = None

    def read(self, text: str) -> str | None:
        if self.choices is None:
            return text if _TEXT_VALUE.fullmatch(text) else None
        return text if any(text == value for value, _ in self.choices) else None


AGE_FILTER = Filter("age", "waiting", tuple((value, label) for value, label, _ in AGES))
HELPDESK_FILTER = Filter("helpdesk", "helpdesk", (("zendesk", "Zendesk"), ("freshdesk", "Freshdesk")))


@dataclass(frozen=True)
class PageQuery:
    """What one table was asked for: page, size, search text, chosen filters; `carried` are the other tables'
    query values, kept in this table's links and filter form so paging one table does not reset another."""

    table: str
    page: int = 1
    size: int = DEFAULT_SIZE
    search: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    specs: tuple[Filter, ...] = ()
    carried: tuple[tuple[str, str], ...] = ()
    default_size: int = DEFAULT_SIZE

    def arg(self, name: str) -> str:
        return f"{self.table}.{name}"

    def get(self, name: str) -> str | None:
        return self.filters.get(name)

    @property
    def active(self) -> bool:
        """A search or filter narrows the table (the page says "n of N matching")."""
        return bool(self.search or self.filters)

    def own(self, page: int | None = None, size: int | None = None, reset: bool = False) -> list[tuple[str, str]]:
        """This table's query values, with a page or size changed, or without search and filters (`reset`)."""
        size = self.size if size is None else size
        values = [] if reset else [(self.arg("q"), self.search)] + [(self.arg(f.name), self.filters.get(f.name, ""))
                                                                     for f in self.specs]
        values += [(self.arg("size"), str(size) if size != self.default_size else ""),
                   (self.arg("page"), str(page) if page and page > 1 else "")]
        return [(name, value) for name, value in values if value]

    def query(self, page: int | None = None, size: int | None = None, reset: bool = False) -> str:
        """`?...` for a link (empty for none): the other tables' state and this table's, with the change."""
        page = 1 if reset else page if page is not None else self.page
        pairs = list(self.carried) + self.own(page=page, size=size, reset=reset)
        return "?" + urlencode(pairs) if pairs else ""

    def state(self) -> list[tuple[str, str]]:
        """Every table's query values as now (hidden inputs of an action's form: after it, the page comes back
        to the same view; see `kept_args`)."""
        return list(self.carried) + self.own(page=self.page)

    def hidden(self) -> list[tuple[str, str]]:
        """The hidden inputs of this table's filter form: the other tables' state, and this table's size."""
        size = [(self.arg("size"), str(self.size))] if self.size != self.default_size else []
        return list(self.carried) + size


@dataclass
class Page:
    """One page of rows and where it sits: "first–last of total" (`overall`: the count without filters)."""

    rows: list
    total: int
    query: PageQuery
    page: int = 1
    overall: int | None = None

    @property
    def size(self) -> int:
        return self.query.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if not self.rows else (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return 0 if not self.rows else self.first + len(self.rows) - 1

    @property
    def shown(self) -> str:
        """The "n of N" line: which rows of how many."""
        if not self.total:
            return "none match" if self.query.active else "none"
        text = f"{self.first}–{self.last} of {self.total}"
        if self.query.active:
            text += " matching" + (f" ({self.overall} in all)" if self.overall is not None else "")
        return text

    def link(self, page: int) -> str:
        return self.query.query(page=page)

    def links(self) -> list[tuple[str, int | None]]:
        """(label, page) for the pager: first, previous, next, last; page None where there is nowhere to go."""
        at, last = self.page, self.pages
        return [("« first", 1 if at > 1 else None), ("‹ previous", at - 1 if at > 1 else None),
                ("next ›", at + 1 if at < last else None), ("last »", last if at < last else None)]


def read_page(args: Mapping[str, str], table: str, filters: Sequence[Filter] = (), *, default_size: int = DEFAULT_SIZE,
              strict: bool = False) -> PageQuery:
    """The table's page, size, search and filters from `args` (request.args). `strict` (a bearer client): a value
    that names nothing raises BadQuery; otherwise it falls back to the default."""
    prefix = table + "."

    def value(name: str) -> str:
        raw = args.get(prefix + name)
        return raw if isinstance(raw, str) else ""

    page = _number(prefix + "page", value("page"), 1, 1, MAX_PAGE, strict)
    size = _number(prefix + "size", value("size"), default_size, 1, MAX_SIZE, strict)
    search = _search(prefix + "q", value("q"), strict)
    chosen: dict[str, str] = {}
    for spec in filters:
        written = value(spec.name).strip()
        if not written:
            continue
        found = spec.read(written)
        if found is None:
            if strict:
                allowed = ", ".join(v for v, _ in spec.choices) if spec.choices else "a short name"
                raise BadQuery(prefix + spec.name, f"{written[:40]!r} is not one of: {allowed}")
            continue
        chosen[spec.name] = found
    return PageQuery(table=table, page=page, size=size, search=search, filters=chosen, specs=tuple(filters),
                     carried=_carried(args, prefix), default_size=default_size)


def kept_args(values: Mapping[str, str]) -> dict[str, str]:
    """The tables' query values an action's form carried back (`PageQuery.state`), cleaned and bounded, for the
    redirect to the page: only `<table>.<field>` names, so a form cannot add a notice or anything else."""
    return dict(_carried(values, own_prefix="\0"))


def fetch_page(session: Session, stmt: Select, query: PageQuery, *, scalars: bool = False,
               overall: int | None = None) -> Page:
    """Count the select's rows, then read only the asked page (the last one if the number is past the end).
    The select must be ordered (a stable order: end it with the id)."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // query.size))
    page = min(query.page, pages)
    limited = stmt.limit(query.size).offset((page - 1) * query.size)
    rows = list(session.scalars(limited)) if scalars else list(session.execute(limited))
    return Page(rows=rows, total=total, query=query, page=page, overall=overall)


def search_clause(text: str, id_column, *text_columns) -> ColumnElement[bool]:
    """Rows whose ticket id is the text (`123` or `#123`), or whose text columns contain it (any case).
    No text: every row."""
    if not text:
        return true()
    ticket = text.lstrip("#").strip()
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = [column.ilike(like, escape="\\") for column in text_columns]
    if ticket.isdigit() and len(ticket) <= 64:
        found.append(id_column == ticket)
    return or_(*found) if found else false()


def age_cutoff(value: str | None, now: datetime) -> datetime | None:
    """The age filter's value as a time: rows older than it match (None: no age filter)."""
    for name, _, age in AGES:
        if value == name:
            return now - age
    return None


def _number(name: str, text: str, default: int, low: int, high: int, strict: bool) -> int:
    text = text.strip()
    if not text:
        return default
    if _NUMBER.fullmatch(text) and low <= int(text) <= high:
        return int(text)
    if strict:
        raise BadQuery(name, f"must be a whole number from {low} to {high}, not {text[:40]!r}")
    if _DIGITS.fullmatch(text) and (len(text) > 9 or int(text) > high):  # never int() of 5,000 digits
        return high  # a page past the end: the last one
    return default


def _search(name: str, text: str, strict: bool) -> str:
    cleaned = " ".join(_CONTROL.sub(" ", text).split())
    if len(cleaned) > SEARCH_CHARS:
        if strict:
            raise BadQuery(name, f"search text is at most {SEARCH_CHARS} characters, not {len(cleaned)}")
        cleaned = cleaned[:SEARCH_CHARS].rstrip()
    return cleaned


def _carried(args: Mapping[str, str], own_prefix: str) -> tuple[tuple[str, str], ...]:
    """The other tables' query values (only `<table>.<field>` names, cleaned and cut): links keep them."""
    kept: list[tuple[str, str]] = []
    for name in args:
        if len(kept) >= MAX_CARRIED:
            break
        if not isinstance(name, str) or name.startswith(own_prefix) or not _ARG.fullmatch(name):
            continue
        value = args.get(name)
        if isinstance(value, str):
            cleaned = " ".join(_CONTROL.sub(" ", value).split())[:SEARCH_CHARS]
            if cleaned:
                kept.append((name, cleaned))
    return tuple(kept)
