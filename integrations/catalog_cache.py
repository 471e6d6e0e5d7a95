"""The helpdesk's groups, agents and fields, re-read every few minutes: a route to a group deleted since
the routing file was written must never be written, and reading them per ticket would waste the budget."""
from __future__ import annotations

import threading
import time
from typing import Callable

from integrations.base import Catalog

CATALOG_TTL_SECONDS = 600.0


class CachedCatalog:
    def __init__(self, load: Callable[[], Catalog], ttl: float = CATALOG_TTL_SECONDS, clock=time.monotonic):
        self._load, self.ttl, self._clock = load, ttl, clock
        self._lock = threading.Lock()
        self._value: Catalog | None = None
        self._loaded_at = 0.0

    def get(self) -> Catalog:
        with self._lock:
            if self._value is None or self._clock() - self._loaded_at > self.ttl:
                self._value, self._loaded_at = self._load(), self._clock()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None
