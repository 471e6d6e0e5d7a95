"""`triage worker`: drain RQ (with REDIS_URL) or the store's inbox, until SIGTERM.

Tickets run in child processes under a time limit (the runtime's `runner`, webhooks.isolation) when the
runtime was built with workers="isolated"; with `with_clock` this process also runs the clock
(`triage serve`'s worker process).
"""
from __future__ import annotations

import logging
import os
import signal
import threading

from webhooks import jobs
from webhooks.queue import RQ_QUEUE_NAME, InboxWorkers, RedisQueue, next_due_in, sweep, worker_identity

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15  # at most; sooner when a lease or a retry falls due before that
WORKER_NICENESS = 10  # above the web's 0: on shared cores the scheduler gives the web most of the CPU


def lower_priority(niceness: int = WORKER_NICENESS) -> int:
    """Intake before processing: raise this process's niceness to at least `niceness` (its children
    inherit it). `triage worker`, its ticket processes and `triage serve`'s worker process call it.
    Returns the niceness now; never raises (a platform without priorities runs the worker as it is)."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < niceness:
            os.setpriority(os.PRIO_PROCESS, 0, niceness)
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError) as exc:
        log.warning("could not lower the worker's CPU priority", extra={"error": str(exc)})
        return 0


def run_worker(runtime, with_clock: bool = False) -> int:
    lower_priority()
    if isinstance(runtime.queue, RedisQueue):
        return _run_rq(runtime)
    return _run_inbox(runtime, with_clock)


def _run_inbox(runtime, with_clock: bool) -> int:
    workers: InboxWorkers = runtime.queue
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler = None
    if with_clock:
        from webhooks.clock import build_scheduler

        scheduler = build_scheduler(runtime)
    workers.start()
    if scheduler is not None:
        scheduler.start()
    log.info("inbox worker started", extra={"threads": workers.threads, "clock": with_clock,
                                            "isolated": runtime.runner is not None})
    stop.wait()
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    runtime.close()
    return 0


def _run_rq(runtime) -> int:
    from rq import SimpleWorker

    identity = worker_identity("rq")
    jobs.bind(runtime.runner or runtime.pipeline, identity, runtime.queue)
    stop = threading.Event()
    threading.Thread(target=_sweep_forever, args=(runtime, stop), name="triage-sweeper", daemon=True).start()
    # SimpleWorker takes jobs in this process (the model, if loaded here, stays loaded); the ticket itself
    # runs in the runner's child process under the time limit.
    worker = SimpleWorker([RQ_QUEUE_NAME], connection=runtime.queue.connection, name=identity.replace(":", "-"))
    log.info("rq worker started", extra={"worker": worker.name})
    try:
        worker.work(with_scheduler=False, logging_level="WARNING")
    finally:
        stop.set()
        if runtime.runner is not None:
            runtime.runner.stop()
    return 0


def _sweep_forever(runtime, stop: threading.Event) -> None:
    """Resend what crashed workers left behind and retries that fell due (cheap; every worker may run it;
    the queue's mark keeps a delivery from being queued twice)."""
    while not stop.is_set():
        pause = SWEEP_SECONDS
        try:
            sweep(runtime.store, runtime.queue)
            pause = next_due_in(runtime.store, SWEEP_SECONDS)
        except Exception:
            log.exception("sweep failed")
        stop.wait(pause)
