"""What the store makes of text a helpdesk sends, so any string can be written on SQLite and PostgreSQL alike.

PostgreSQL refuses NUL in text and in JSONB; neither database driver can encode a lone surrogate (JSON's
"\\ud800" decodes to one); SQLite does not enforce VARCHAR(n) while PostgreSQL refuses longer values. The
column types in `store.types` run every bound value through these functions, so the rows are the same on
both databases and no input reaches the database that it would refuse. Each function is linear in its input.
"""
from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# Python joins a valid surrogate pair into one code point, so any surrogate left in a str is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str, max_chars: int | None = None) -> str:
    """NUL removed, lone surrogates replaced by U+FFFD, then cut to `max_chars` code points.

    Cutting after the replacement, on code points, never leaves a surrogate or half a UTF-8 sequence (it may
    end inside a sequence of several code points, such as a family emoji, which is still valid text).
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():  # ASCII has no surrogates: most text skips the scan (a 1 MB body costs ms)
        text = _SURROGATE.sub(REPLACEMENT, text)
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
    return text


def clean_json(value: object) -> object:
    """A copy of a JSON-able value with every string cleaned, dict keys included (no length cap).

    Walks with an explicit stack rather than recursion, so nesting depth cannot raise RecursionError.
    Two keys that are equal once cleaned become one; the later one wins, as in a JSON object read twice.
    """
    root = [value]
    pending: list[tuple[list | dict, object]] = [(root, 0)]
    while pending:
        container, slot = pending.pop()
        item = container[slot]
        if isinstance(item, str):
            container[slot] = clean_text(item)
        elif isinstance(item, dict):
            copy = {clean_text(key) if isinstance(key, str) else key: inner for key, inner in item.items()}
            container[slot] = copy
            pending.extend((copy, key) for key in copy)
        elif isinstance(item, (list, tuple)):
            copy_list = list(item)
            container[slot] = copy_list
            pending.extend((copy_list, index) for index in range(len(copy_list)))
    return root[0]
