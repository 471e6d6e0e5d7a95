"""`triage backfill`: page through a helpdesk's solved and closed tickets and store them as labelled
training examples, resuming from the stored cursor after an interruption.

Each page's tickets and the cursor past them are committed together, so a crash or Ctrl-C loses at most
the page in flight, and a re-run stores nothing twice (tickets are upserted by helpdesk and id). A rate
limit (429 or our budget) is waited out here: this is a command-line process, never a web request.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from integrations.base import HelpdeskAdapter
from integrations.circuit import CircuitOpen
from integrations.errors import RateLimited, Unavailable
from integrations.labels import LabelSource
from store import backfill as backfill_store
from store.database import Store

log = logging.getLogger(__name__)
MAX_OUTAGE_RETRIES = 5


@dataclass
class BackfillReport:
    pages: int
    seen: int
    stored: int
    finished: bool
    waited_seconds: float


def run_backfill(adapter: HelpdeskAdapter, store: Store, since: datetime, label_from: LabelSource,
                 restart: bool = False, on_page: Callable[[int, int], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_pages: int | None = None) -> BackfillReport:
    """`on_page(seen, stored)` is called after every committed page (the progress bar)."""
    catalog = _with_retries(adapter.catalog, sleep)[0]
    field_key = label_from.field_key(catalog) if label_from.kind == "field" else None
    with store.session() as session:
        row = backfill_store.cursor_for(session, adapter.key, since, str(label_from), restart)
        cursor_id, cursor, finished_at = row.id, row.cursor, row.finished_at
    if finished_at is not None and not restart:
        cursor_id = _reopen(store, cursor_id)  # a finished import continues from where it ended (new tickets)
    pages = seen = stored = 0
    waited = 0.0
    failures = 0
    while True:
        try:
            for page in adapter.history(since, cursor):
                examples = [(t.external_id, t.ticket, label) for t in page.tickets
                            if (label := label_from.label(t, catalog, field_key))]
                with store.session() as session:
                    backfill_store.save_page(session, cursor_id, adapter.key, examples, len(page.tickets),
                                             page.cursor, page.done)
                cursor, failures = page.cursor, 0
                pages, seen, stored = pages + 1, seen + len(page.tickets), stored + len(examples)
                if on_page:
                    on_page(len(page.tickets), len(examples))
                if page.done or (max_pages is not None and pages >= max_pages):
                    return BackfillReport(pages, seen, stored, page.done, waited)
            return BackfillReport(pages, seen, stored, True, waited)
        except (Unavailable, CircuitOpen) as exc:  # an outage: a few patient retries, then stop (resumable)
            failures += 1
            if failures > MAX_OUTAGE_RETRIES:
                raise
            delay = exc.retry_after if isinstance(exc, CircuitOpen) else min(60.0, 2.0 ** failures)
            sleep(delay)
            waited += delay
        except RateLimited as exc:
            log.info("backfill waits out a rate limit", extra={"seconds": exc.retry_after})
            sleep(exc.retry_after)
            waited += exc.retry_after


def _reopen(store: Store, cursor_id: int) -> int:
    from store.models import BackfillCursor

    with store.session() as session:
        session.get(BackfillCursor, cursor_id).finished_at = None
    return cursor_id


def _with_retries(call, sleep):
    for attempt in range(MAX_OUTAGE_RETRIES + 1):
        try:
            return call(), attempt
        except RateLimited as exc:
            sleep(exc.retry_after)
        except Unavailable:
            if attempt == MAX_OUTAGE_RETRIES:
                raise
            sleep(min(60.0, 2.0 ** (attempt + 1)))
    return call(), MAX_OUTAGE_RETRIES
