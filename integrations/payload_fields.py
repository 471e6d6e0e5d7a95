"""Typed accessors for webhook payload fields, shared by the helpdesk parsers.

Each accessor reads one field and either returns a clean Python value or raises `MalformedPayload`
naming the field (`where` is the path shown to the person reading the 400, e.g. "detail.tags").
Parsers read every field through these, so no bad input can surface as a KeyError or TypeError.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from classifier.limits import MAX_TAG_CHARS, MAX_TAGS
from integrations.inbound import MalformedPayload

# ASCII digits only: str.isdigit() would also accept "²" or Arabic-Indic digits.
_TICKET_ID = re.compile(r"[0-9]{1,20}")
_LARGEST_ID = 10**20

# Creation times outside these years are typos or placeholders, and could overflow a time-zone shift.
_SANE_YEARS = range(1970, 2201)
_LONGEST_DATE = 64

# Helpdesk placeholders render dates for people, not machines; ISO 8601 is tried first.
_HUMAN_DATE_FORMATS = (
    "%a, %d %b, %Y at %I:%M %p",  # Freshdesk placeholders: "Thu, 14 Mar, 2024 at 10:20 AM"
    "%a, %d %b %Y at %I:%M %p",
    "%B %d, %Y",  # Zendesk {{ticket.created_at}}: "May 18, 2014" (date only)
)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _int_text(value: int, where: str) -> str:
    # str() of a huge int raises ValueError (Python's 4300-digit limit); no id is that long.
    if abs(value) >= _LARGEST_ID:
        raise MalformedPayload(f"{where}: number too large to be an id")
    return str(value)


def require_object(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"{where}: expected a JSON object, got {_describe(value)}")
    return value


def optional_object(obj: Mapping[str, object], key: str, where: str) -> Mapping[str, object] | None:
    value = obj.get(key)
    if value is None:
        return None
    return require_object(value, where)


def ticket_id(value: object, where: str) -> str:
    """A helpdesk ticket id as a string of ASCII digits ("035" and 35 both become "35")."""
    if isinstance(value, bool) or value is None:
        raise MalformedPayload(f"{where}: ticket id is required, got {_describe(value)}")
    if isinstance(value, int):
        text = _int_text(value, where)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise MalformedPayload(f"{where}: ticket id must be a number or a string of digits, got {_describe(value)}")
    if not text:
        raise MalformedPayload(f"{where}: ticket id is empty")
    if not _TICKET_ID.fullmatch(text) or int(text) == 0:
        raise MalformedPayload(f"{where}: ticket id must be a positive whole number, got {text[:40]!r}")
    return str(int(text))


def optional_text(obj: Mapping[str, object], key: str, where: str) -> str | None:
    """A string field; absent or null -> None; any other type is malformed."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{where}: expected a string, got {_describe(value)}")
    return value


def optional_label(obj: Mapping[str, object], key: str, where: str) -> str | None:
    """A short identifier or name (organization, channel, requester): string or number, blank -> None."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MalformedPayload(f"{where}: expected a string or a number, got {_describe(value)}")
    text = _int_text(value, where) if isinstance(value, int) else value.strip()
    return text or None


def optional_tags(
    obj: Mapping[str, object], key: str, where: str, split: Callable[[str], list[str]]
) -> tuple[str, ...]:
    """Tags as a list of strings, or one string that `split` breaks up (placeholders render a string).

    At most `MAX_TAGS` distinct tags are kept, the first ones; a tag longer than `MAX_TAG_CHARS` is dropped."""
    value = obj.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(split(value))
    elif isinstance(value, list):
        items = value
    else:
        raise MalformedPayload(f"{where}: expected a list of strings or a string, got {_describe(value)}")
    tags: dict[str, None] = {}  # ordered and a set: `in` on a list made 100,000 tags quadratic
    for position, item in enumerate(items):
        if not isinstance(item, str):
            raise MalformedPayload(f"{where}[{position}]: expected a string, got {_describe(item)}")
        tag = item.strip() if len(tags) < MAX_TAGS else ""
        if 0 < len(tag) <= MAX_TAG_CHARS:
            tags[tag] = None
    return tuple(tags)


def split_on_whitespace(text: str) -> list[str]:
    return text.split()


def split_on_commas(text: str) -> list[str]:
    return text.split(",")


def optional_datetime(obj: Mapping[str, object], key: str) -> datetime | None:
    """A timestamp; anything missing, mistyped or unparsable is treated as absent, never an error.

    The creation time is a nicety for the classifier, not worth refusing a ticket over.
    Naive times are taken as UTC. A time whose UTC instant falls outside `_SANE_YEARS` (or cannot be moved
    to UTC at all, "9999-12-31T23:00:00-05:00") is absent too: it would overflow any later time-zone shift.
    """
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) > _LONGEST_DATE:  # no date is this long; never hand a parser a megabyte
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for layout in _HUMAN_DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        in_utc = parsed.astimezone(timezone.utc)
    except OverflowError:
        return None
    return parsed if in_utc.year in _SANE_YEARS else None
