"""Queues that carry delivery ids to workers; the store stays the truth.

- `InboxWorkers` (no REDIS_URL): threads drain the durable inbox table directly; any process running
  them (the `serve` process, or `triage worker` processes) shares the same inbox through leases.
- `RedisQueue` (REDIS_URL): RQ on Redis; `triage worker` processes on any machine take jobs from it.
A sweeper re-sends what a crashed worker left behind once its lease runs out, and retries when due.
"""
from __future__ import annotations

import logging
import os
import queue as stdqueue
import socket
import threading
import uuid

from store import inbox
from store.database import Store

log = logging.getLogger(__name__)
RQ_QUEUE_NAME = "triage"


def worker_identity(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class InboxWorkers:
    """A dispatcher thread reads due ids from the inbox and hands them to `threads` worker threads."""

    def __init__(self, store: Store, process, threads: int, poll_seconds: float = 1.0):
        self.store, self._process, self.threads, self.poll_seconds = store, process, threads, poll_seconds
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

    def alive(self) -> bool:
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    def ping(self) -> bool:
        return self.alive()

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            try:
                with self.store.session() as session:
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


class RedisQueue:
    """RQ on Redis: the job is `webhooks.jobs.process_delivery(delivery_id)`."""

    def __init__(self, redis_url: str):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(RQ_QUEUE_NAME, connection=self.connection)

    def enqueue(self, delivery_id: int) -> None:
        self.queue.enqueue("webhooks.jobs.process_delivery", delivery_id, job_id=f"delivery-{delivery_id}",
                           result_ttl=0, failure_ttl=86400)

    def ping(self) -> bool:
        return bool(self.connection.ping())

    def start(self) -> None:
        """Nothing runs in this process: `triage worker` processes drain the queue."""

    def stop(self, timeout: float = 10.0) -> None:
        self.connection.close()


def sweep(store: Store, queue, limit: int = 500) -> int:
    """Re-send due deliveries (retries, and work a dead worker held once its lease expired)."""
    with store.session() as session:
        due = inbox.due_ids(session, limit=limit)
    for delivery_id in due:
        queue.enqueue(delivery_id)
    return len(due)
