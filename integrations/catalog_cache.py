"""The helpdesk's groups, agents and fields, re-read every few minutes: a route to a group deleted since
the routing file was written must never be written, and reading them per ticket would waste the budget.
A catalog with a part the helpdesk answered in an unexpected shape is kept only briefly, so the next tickets
confirm their group and assignee again soon after the answer is right again."""
from __future__ import annotations

import threading
import time
from typing import Callable

from integrations.base import Catalog
from integrations.errors import Unavailable

CATALOG_TTL_SECONDS = 600.0
PARTIAL_TTL_SECONDS = 60.0


class CachedCatalog:
    def __init__(self, load: Callable[[], Catalog], ttl: float = CATALOG_TTL_SECONDS, clock=time.monotonic):
        self._load, self.ttl, self._clock = load, ttl, clock
        self._lock = threading.Lock()
        self._value: Catalog | None = None
        self._loaded_at = 0.0

    def get(self) -> Catalog:
        with self._lock:
            ttl = min(self.ttl, PARTIAL_TTL_SECONDS) if self._value is not None and self._value.unconfirmed \
                else self.ttl
            if self._value is None or self._clock() - self._loaded_at > ttl:
                self._value, self._loaded_at = self._load(), self._clock()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


def confirmed(helpdesk: str, catalog: Catalog) -> Catalog:
    """The catalog when every part of it was read; else `Unavailable` naming what answered in the wrong shape."""
    if catalog.unconfirmed:
        raise Unavailable(helpdesk, "; ".join(catalog.unconfirmed[part] for part in sorted(catalog.unconfirmed)))
    return catalog


def item_key(row: dict, name: str = "id") -> str:
    """A catalog item's key as text; an item without one is an answer of the wrong shape (KeyError)."""
    if row.get(name) is None:
        raise KeyError(f"an item without {name}")
    return str(row[name])
