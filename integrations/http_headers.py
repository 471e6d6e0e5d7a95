"""Header lookup that works on any mapping: Flask's headers ignore case, a plain dict in a test does not."""
from __future__ import annotations

from collections.abc import Mapping


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header `name`, compared case-insensitively; None when absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value if isinstance(value, str) else None
    return None
