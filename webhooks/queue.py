"""Queues that carry delivery ids to workers; the store stays the truth.

- `InboxWorkers` (no REDIS_URL): threads drain the durable inbox table directly; any process running
  them (`triage worker` processes, and the worker process of `triage serve`) shares the same inbox
  through leases, and says it is alive in the store's heartbeats.
- `InboxDoorbell` (no REDIS_URL, a web process): the workers are elsewhere and poll the inbox, so there
  is nothing to send; readiness reads their heartbeats.
- `RedisQueue` (REDIS_URL): RQ on Redis; `triage worker` processes on any machine take jobs from it.
  A delivery is queued once however many sweepers run: a mark in Redis is set with NX before the job is
  queued and cleared when a worker starts it.
A sweeper re-sends what a crashed worker left behind once its lease runs out, and retries when due.
"""
from __future__ import annotations

import logging
import os
import queue as stdqueue
import socket
import threading
import time
import uuid

from store import heartbeats, inbox
from store.database import Store

log = logging.getLogger(__name__)
RQ_QUEUE_NAME = "triage"
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_STALE_SECONDS = 30.0  # no heartbeat for this long: no worker drains the inbox
QUEUED_MARK_SECONDS = 600  # a mark older than this is checked against RQ before the job is queued again


def worker_identity(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class InboxWorkers:
    """A dispatcher thread reads due ids from the inbox and hands them to `threads` worker threads."""

    def __init__(self, store: Store, process, threads: int, poll_seconds: float = 1.0):
        self.store, self._process, self.threads, self.poll_seconds = store, process, threads, poll_seconds
        self._next_beat = 0.0
        self._wake, self._stop = threading.Event(), threading.Event()
        self._work: stdqueue.Queue[int] = stdqueue.Queue(maxsize=threads * 2)
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.identity = worker_identity("inbox")

    def enqueue(self, delivery_id: int) -> None:
        self._wake.set()

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._dispatch, name="triage-dispatch", daemon=True)]
        self._threads += [threading.Thread(target=self._work_loop, args=(i,), name=f"triage-worker-{i}", daemon=True)
                          for i in range(self.threads)]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._threads:
            try:
                with self.store.session() as session:
                    heartbeats.forget(session, self.identity)
            except Exception:
                log.warning("could not remove the worker heartbeat")

    def alive(self) -> bool:
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def ping(self) -> bool:
        return self.alive()

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            try:
                with self.store.session() as session:
                    self._beat(session)
                    due = inbox.due_ids(session, limit=self.threads * 4)
            except Exception:  # store briefly unreachable: try again on the next tick
                log.exception("inbox poll failed")
                due = []
            fresh = [i for i in due if i not in self._in_flight]
            for delivery_id in fresh:
                with self._lock:
                    self._in_flight.add(delivery_id)
                self._work.put(delivery_id)
            if not fresh:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def _beat(self, session) -> None:
        now = time.monotonic()
        if now >= self._next_beat:
            heartbeats.beat(session, self.identity)
            self._next_beat = now + HEARTBEAT_SECONDS

    def _work_loop(self, index: int) -> None:
        owner = f"{self.identity}:{index}"
        while not self._stop.is_set():
            try:
                delivery_id = self._work.get(timeout=0.5)
            except stdqueue.Empty:
                continue
            try:
                self._process(delivery_id, owner)
            except Exception:
                log.exception("worker loop error", extra={"delivery_id": delivery_id})
            finally:
                with self._lock:
                    self._in_flight.discard(delivery_id)
                self._wake.set()


class InboxDoorbell:
    """The web process's queue when the inbox workers run in other processes (`triage serve`, or the
    Procfile's `worker` without REDIS_URL): they poll the inbox, so `enqueue` has nothing to do."""

    def __init__(self, store: Store):
        self.store = store

    def enqueue(self, delivery_id: int) -> None:
        """The delivery is committed: a worker's next poll (well under a second) finds it."""

    def ping(self) -> bool:
        with self.store.session() as session:
            return heartbeats.any_alive(session, HEARTBEAT_STALE_SECONDS)

    def start(self) -> None:
        """Nothing runs here."""

    def stop(self, timeout: float = 10.0) -> None:
        """Nothing runs here."""


class RedisQueue:
    """RQ on Redis: the job is `webhooks.jobs.process_delivery(delivery_id)`."""

    def __init__(self, redis_url: str):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(RQ_QUEUE_NAME, connection=self.connection)

    def enqueue(self, delivery_id: int) -> bool:
        """Queue the delivery's job unless it is already waiting; True if this call queued it."""
        mark = queued_mark(delivery_id)
        if not self.connection.set(mark, 1, nx=True, ex=QUEUED_MARK_SECONDS):
            return False  # another sweeper or the webhook queued it, and no worker has started it yet
        try:
            if self._waiting(job_id(delivery_id)):  # an old mark expired while the job still waits
                return False
            self.queue.enqueue("webhooks.jobs.process_delivery", delivery_id, job_id=job_id(delivery_id),
                               result_ttl=0, failure_ttl=86400)
        except BaseException:
            self.connection.delete(mark)
            raise
        return True

    def started(self, delivery_id: int) -> None:
        """A worker took the job: a later retry of this delivery may be queued again."""
        self.connection.delete(queued_mark(delivery_id))

    def _waiting(self, job: str) -> bool:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            status = Job.fetch(job, connection=self.connection).get_status()
        except NoSuchJobError:
            return False
        return status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)

    def ping(self) -> bool:
        return bool(self.connection.ping())

    def start(self) -> None:
        """Nothing runs in this process: `triage worker` processes drain the queue."""

    def stop(self, timeout: float = 10.0) -> None:
        self.connection.close()


def job_id(delivery_id: int) -> str:
    return f"delivery-{delivery_id}"


def queued_mark(delivery_id: int) -> str:
    return f"triage:queued:{delivery_id}"


def sweep(store: Store, queue, limit: int = 500) -> int:
    """Re-send due deliveries (retries, and work a dead worker held once its lease expired)."""
    with store.session() as session:
        due = inbox.due_ids(session, limit=limit)
    for delivery_id in due:
        queue.enqueue(delivery_id)
    return len(due)
