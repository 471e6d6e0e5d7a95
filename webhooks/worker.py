"""`triage worker`: drain RQ (with REDIS_URL) or the store's inbox, until SIGTERM."""
from __future__ import annotations

import logging
import signal
import threading

from webhooks import jobs
from webhooks.queue import RQ_QUEUE_NAME, InboxWorkers, RedisQueue, sweep, worker_identity

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15


def run_worker(runtime) -> int:
    if isinstance(runtime.queue, RedisQueue):
        return _run_rq(runtime)
    return _run_inbox(runtime.queue)


def _run_inbox(workers: InboxWorkers) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    workers.start()
    log.info("inbox worker started", extra={"threads": workers.threads})
    stop.wait()
    workers.stop()
    return 0


def _run_rq(runtime) -> int:
    from rq import SimpleWorker

    identity = worker_identity("rq")
    jobs.bind(runtime.pipeline, identity)
    stop = threading.Event()
    threading.Thread(target=_sweep_forever, args=(runtime, stop), name="triage-sweeper", daemon=True).start()
    # SimpleWorker runs jobs in this process: the model stays loaded, and nothing forks after torch started.
    worker = SimpleWorker([RQ_QUEUE_NAME], connection=runtime.queue.connection, name=identity.replace(":", "-"))
    log.info("rq worker started", extra={"worker": worker.name})
    try:
        worker.work(with_scheduler=False, logging_level="WARNING")
    finally:
        stop.set()
    return 0


def _sweep_forever(runtime, stop: threading.Event) -> None:
    """Resend what crashed workers left behind and retries that fell due (cheap; every worker may run it)."""
    while not stop.is_set():
        try:
            sweep(runtime.store, runtime.queue)
        except Exception:
            log.exception("sweep failed")
        stop.wait(SWEEP_SECONDS)
