"""A circuit breaker per helpdesk and per process (workers do not share it; each finds an outage itself
within `threshold` calls, which is cheap, and no shared state can wedge it).

closed -> `threshold` consecutive failures (5xx, timeout, connection error) -> open for `cooldown` seconds:
every call is refused at once with `CircuitOpen` (a `RateLimited`, so the delivery is deferred to when
the breaker may close, without spending an attempt) -> half-open: one caller runs the probe (a cheap
read); success closes the breaker, failure opens it again with the cooldown doubled (up to `max_cooldown`).
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from integrations.errors import RateLimited


class CircuitOpen(RateLimited):
    """The helpdesk failed repeatedly; calls are refused until the breaker's probe succeeds."""


class CircuitBreaker:
    def __init__(self, helpdesk: str, threshold: int = 5, cooldown: float = 30.0, max_cooldown: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.helpdesk, self.threshold = helpdesk, threshold
        self.base_cooldown, self.max_cooldown, self._clock = cooldown, max_cooldown, clock
        self._lock = threading.Lock()
        self._failures = 0
        self._cooldown = cooldown
        self._open_until: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "open" if self._clock() < self._open_until or self._probing else "half-open"

    def before_call(self, probe: Callable[[], None]) -> None:
        """Raise `CircuitOpen` while open; when the cooldown is over, the first caller probes."""
        with self._lock:
            if self._open_until is None:
                return
            remaining = self._open_until - self._clock()
            if remaining > 0 or self._probing:
                raise CircuitOpen(self.helpdesk, "circuit breaker open after repeated failures",
                                  retry_after=max(remaining, 1.0))
            self._probing = True
        try:
            probe()
        except Exception:
            with self._lock:
                self._probing = False
                self._cooldown = min(self.max_cooldown, self._cooldown * 2)
                self._open_until = self._clock() + self._cooldown
            raise CircuitOpen(self.helpdesk, "circuit breaker probe failed", retry_after=self._cooldown) from None
        with self._lock:
            self._probing, self._open_until, self._failures, self._cooldown = False, None, 0, self.base_cooldown

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.threshold and self._open_until is None:
                self._open_until = self._clock() + self._cooldown
