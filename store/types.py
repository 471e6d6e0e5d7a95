"""Column types that behave the same on SQLite and PostgreSQL, and accept any value a helpdesk can send."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from store.clean_text import clean_json, clean_text


class CleanString(TypeDecorator):
    """VARCHAR(n) that cleans and cuts what is written (`store.clean_text`): SQLite would keep a longer
    value that PostgreSQL refuses, so we cut, and both keep the same row. Reads are not touched."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return clean_text(value, self.impl.length) if isinstance(value, str) else value


class CleanText(TypeDecorator):
    """TEXT without NUL or lone surrogates, which PostgreSQL and the drivers refuse; never cut."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return clean_text(value) if isinstance(value, str) else value


class CleanJSON(TypeDecorator):
    """JSON (JSONB on PostgreSQL, which refuses "\\u0000") whose strings, keys too, are cleaned when written."""

    impl = JSON
    cache_ok = True
    should_evaluate_none = True  # as plain JSON: a Python None is stored as JSON null, not omitted

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def process_bind_param(self, value, dialect):
        return clean_json(value)


JSONValue = CleanJSON()


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and mixing the two breaks comparisons.

    An aware time whose UTC instant lies outside Python's years 1..9999 ("9999-12-31T23:00-05:00") is
    stored as the nearest one Python can hold instead of raising; parsers drop such dates before this.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        offset = value.utcoffset()
        if offset is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        try:
            return value.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # east of UTC near year 1 falls before it; west near 9999 after it
            return datetime.min if offset > timedelta(0) else datetime.max

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
