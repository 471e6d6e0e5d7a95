"""Runs each delivery in a child process under a time limit, so no ticket can hold a worker.

A ticket whose processing hangs (a pathological text, a vendor that never answers) or kills its
process (a segfault, the OOM killer) costs one child, not the worker: pebble kills the child at the
limit and starts another, and the delivery records a failed attempt with the reason. After
`TRIAGE_MAX_ATTEMPTS` such attempts it is dead-lettered, and the reason shows on the admin page.
A thread cannot be stopped from outside in Python (a regex holds the GIL), a process can.

Children are spawned, not forked: each builds its own store connections and loads the model once.

Tickets travel in small batches (`process_batch`): one child call claims and classifies several
deliveries (an RQ job's and up to 15 other due ones; an inbox thread's share of a poll) under the time limit. A batch that is stopped or fails is run again one delivery
at a time, each under its own limit, so one bad ticket fails alone; deliveries whose next step calls out
(a helpdesk, Slack) run one at a time as well. The children run at a lower CPU priority than the web.
"""
from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import TimeoutError as FutureTimeout

from pebble import ProcessExpired, ProcessPool

from store import inbox
from webhooks.pipeline import PENDING
from webhooks.worker import lower_priority

log = logging.getLogger(__name__)
_child: dict = {}  # in a child: "runtime", or "error" when it could not be built


def _start_child(settings, build_runtime) -> None:
    """Pool initializer: the child's own runtime (store, model, adapters) from `build_runtime(settings)`; a
    failure is kept, not raised, so that the pool does not respawn a broken child in a loop and each task
    reports the cause."""
    from telemetry.json_logs import configure_logging

    configure_logging(settings=settings)
    lower_priority()
    try:
        runtime = build_runtime(settings)
        runtime.models.get()
        _child["runtime"] = runtime
    except Exception as exc:  # reported by every task this child is given
        log.exception("ticket process could not start")
        _child["error"] = f"{type(exc).__name__}: {exc}"


def _process_in_child(delivery_id: int, owner: str) -> str:
    if "runtime" not in _child:
        raise RuntimeError(f"ticket process could not start: {_child.get('error', 'unknown error')}")
    return _child["runtime"].pipeline.process(delivery_id, owner)


def _batch_in_child(delivery_ids: list[int], owner: str, more: int) -> dict[int, str]:
    if "runtime" not in _child:
        raise RuntimeError(f"ticket process could not start: {_child.get('error', 'unknown error')}")
    return _child["runtime"].pipeline.process_batch(delivery_ids, owner, more, outside_calls=False)


class TimeLimitedRunner:
    """`process(delivery_id, owner)` like `Pipeline.process`, but in a child process within `time_limit` s.

    `build_runtime` (a module-level function: the spawned child imports it by name) builds each child's own
    runtime, with its pipeline running in that child."""

    def __init__(self, settings, store, processes: int, build_runtime):
        self.settings, self.store = settings, store
        self.time_limit = settings.ticket_time_limit
        self.pool = ProcessPool(max_workers=processes, initializer=_start_child, initargs=(settings, build_runtime),
                                context=multiprocessing.get_context("spawn"))

    batch_task = staticmethod(_batch_in_child)  # module-level functions: the spawned child imports them
    single_task = staticmethod(_process_in_child)

    def process_batch(self, delivery_ids: list[int], owner: str, more: int = 0) -> dict[int, str]:
        """Claim `delivery_ids` and up to `more` other due deliveries and classify them in one child call;
        what that call leaves PENDING, or all it held when it was stopped or failed, runs one by one."""
        future = self.pool.schedule(self.batch_task, args=(list(delivery_ids), owner, more), timeout=self.time_limit)
        try:
            outcomes = future.result()
        except Exception as exc:  # stopped at the limit, the child died, or the batch itself raised
            log.warning("batch stopped; one by one", extra={"deliveries": list(delivery_ids),
                                                             "reason": f"{type(exc).__name__}: {exc}"})
            with self.store.session() as session:
                held = inbox.held_by(session, owner)
            outcomes = {delivery_id: "not_claimed" for delivery_id in delivery_ids}
            outcomes.update({delivery_id: PENDING for delivery_id in held})
        for delivery_id, state in outcomes.items():
            if state == PENDING:
                outcomes[delivery_id] = self.process(delivery_id, owner)
        return outcomes

    def process(self, delivery_id: int, owner: str) -> str:
        future = self.pool.schedule(self.single_task, args=(delivery_id, owner), timeout=self.time_limit)
        try:
            return future.result()
        except FutureTimeout:
            reason = f"processing took longer than {self.time_limit:g} s (TRIAGE_TICKET_TIME_LIMIT_SECONDS); stopped"
        except ProcessExpired as exc:
            reason = f"the ticket process died (exit code {exc.exitcode})"
        except Exception as exc:  # the child could not start, or the pipeline itself raised
            reason = f"{type(exc).__name__}: {exc}"
        return self._record(delivery_id, owner, reason)

    def _record(self, delivery_id: int, owner: str, reason: str) -> str:
        log.warning("ticket stopped", extra={"delivery_id": delivery_id, "reason": reason})
        s = self.settings
        with self.store.session() as session:
            return inbox.record_failure(session, delivery_id, owner, reason, s.triage_max_attempts,
                                        s.triage_retry_base_seconds, s.triage_retry_max_seconds)

    def stop(self) -> None:
        self.pool.stop()
        self.pool.join(timeout=10)
