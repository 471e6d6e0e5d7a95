"""A token bucket in the store, so every worker process on every machine shares one per-account budget.

Why the store and not Redis: the store is always there (Redis is optional), and the budgets are small
(Zendesk allows 100 ticket updates a minute per account: under two transactions a second). One row per
budget, read and written under a row lock (`SELECT ... FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on
SQLite), so two workers can never take the same token.

The bucket never lets more than `limit` calls through in any `period` seconds: it holds at most `burst`
tokens and refills at (limit - burst) / period per second, so a full burst plus a period's refill is
exactly `limit`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from store.database import Store
from store.models import RateBudget
from store.types import utcnow


@dataclass(frozen=True)
class BudgetRule:
    key: str  # e.g. "zendesk:ticket_updates"
    limit: int  # calls allowed ...
    period: float = 60.0  # ... per this many seconds
    burst_size: int | None = None  # at most this many at once (default: a tenth of the limit, at most 10)

    @property
    def burst(self) -> float:
        if self.burst_size is not None:
            return float(max(1, min(self.burst_size, self.limit)))
        return float(max(1, min(10, self.limit // 10)))

    @property
    def refill_per_second(self) -> float:
        return (self.limit - self.burst) / self.period


class StoreTokenBucket:
    def __init__(self, store: Store, rule: BudgetRule, clock=utcnow):
        self.store, self.rule, self._clock = store, rule, clock

    def take(self) -> float:
        """Take one token: 0.0 if granted, else the seconds until one will be there (nothing taken)."""
        try:
            return self._take()
        except IntegrityError:  # two processes created the row at once: the other one won, take from it
            return self._take()

    def peek(self) -> float:
        """Seconds until a token will be there (0.0: one is there now), taking nothing and writing nothing."""
        rule = self.rule
        with self.store.session() as session:
            row = session.get(RateBudget, rule.key)
            if row is None:
                return 0.0
            tokens = self._tokens(row, self._clock())
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rule.refill_per_second

    def _tokens(self, row: RateBudget, now: datetime) -> float:
        """Tokens in the bucket at `now`: what was left, refilled since, capped at the burst."""
        elapsed = max(0.0, (now - row.updated_at).total_seconds())
        return min(self.rule.burst, row.tokens + elapsed * self.rule.refill_per_second)

    def _take(self) -> float:
        rule = self.rule
        with self.store.session() as session:
            now: datetime = self._clock()
            row = session.get(RateBudget, rule.key, with_for_update=True)
            if row is None:
                session.add(RateBudget(key=rule.key, tokens=rule.burst - 1, updated_at=now))
                session.flush()
                return 0.0
            tokens = self._tokens(row, now)
            row.updated_at = max(now, row.updated_at)
            if tokens >= 1.0:
                row.tokens = tokens - 1.0
                return 0.0
            row.tokens = tokens
            return (1.0 - tokens) / rule.refill_per_second
