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
from store.types import utcnow

log = logging.getLogger(__name__)
RQ_QUEUE_NAME = "triage"
HEARTBEAT_SECONDS = 5.0
HEARTBEAT_STALE_SECONDS = 30.0  # no heartbeat for this long: no worker drains the inbox
QUEUED_MARK_SECONDS = 600  # a mark older than this is checked against RQ before the job is queued again
MARK_GRACE_SECONDS = 30  # a mark this young may be one whose job is being queued right now
# KEYS: the queue's list, then each job's hash, then each delivery's mark; ARGV: the job ids. A job still in
# the list is removed with its hash (LREM is atomic: a worker that popped it first keeps it).
FORGET_SCRIPT = """
local n = #ARGV
local removed = 0
for i = 1, n do
  if redis.call('LREM', KEYS[1], 0, ARGV[i]) > 0 then
    redis.call('DEL', KEYS[1 + i])
    removed = removed + 1
  end
  redis.call('DEL', KEYS[1 + n + i])
end
return removed
"""


def worker_identity(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class InboxWorkers:
    """A dispatcher thread reads due ids from the inbox and hands them, in batches, to `threads` worker threads."""

    def __init__(self, store: Store, process, threads: int, poll_seconds: float = 1.0, process_batch=None,
                 batch_size: int = 16):
        """`process(id, owner)`; with `process_batch(ids, owner)` (a runner's or the pipeline's) each thread
        takes up to `batch_size` deliveries at once."""
        self.store, self.threads, self.poll_seconds = store, threads, poll_seconds
        self._process = process_batch or (lambda ids, owner: [process(i, owner) for i in ids])
        self.batch_size = batch_size if process_batch is not None else 1
        self._next_beat = 0.0
        self._wake, self._stop = threading.Event(), threading.Event()
        self._work: stdqueue.Queue[list[int]] = stdqueue.Queue(maxsize=threads * 2)
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
                    due = inbox.due_ids(session, limit=self.threads * max(4, self.batch_size))
            except Exception:  # store briefly unreachable: try again on the next tick
                log.exception("inbox poll failed")
                due = []
            fresh = [i for i in due if i not in self._in_flight]
            size = max(1, min(self.batch_size, -(-len(fresh) // self.threads)))  # spread over the threads
            for start in range(0, len(fresh), size):
                batch = fresh[start:start + size]
                with self._lock:
                    self._in_flight.update(batch)
                self._work.put(batch)
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
                batch = self._work.get(timeout=0.5)
            except stdqueue.Empty:
                continue
            try:
                self._process(batch, owner)
            except Exception:
                log.exception("worker loop error", extra={"delivery_ids": batch})
            finally:
                with self._lock:
                    self._in_flight.difference_update(batch)
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
        self._forget = None

    def enqueue(self, delivery_id: int) -> bool:
        """Queue the delivery's job unless it is already waiting; True if this call queued it."""
        mark = queued_mark(delivery_id)
        if not self.connection.set(mark, 1, nx=True, ex=QUEUED_MARK_SECONDS) and self._job_kept(delivery_id):
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

    def _job_kept(self, delivery_id: int) -> bool:
        """Whether the job behind an existing mark is there, or may still be on its way (the mark is younger
        than `MARK_GRACE_SECONDS`). A mark whose job is gone (Redis restarted without persistence, a flushed
        database) would otherwise hold the delivery back until it expires: the job is queued again."""
        from rq.job import Job

        with self.connection.pipeline(transaction=False) as pipe:
            pipe.exists(Job.key_for(job_id(delivery_id)))
            pipe.ttl(queued_mark(delivery_id))
            exists, ttl = pipe.execute()
        return bool(exists) or ttl > QUEUED_MARK_SECONDS - MARK_GRACE_SECONDS

    def started(self, delivery_id: int) -> None:
        """A worker took the job: a later retry of this delivery may be queued again."""
        self.connection.delete(queued_mark(delivery_id))

    def forget(self, delivery_ids: list[int]) -> int:
        """A worker ran these deliveries in a batch with another one's job: their jobs, if still waiting, are
        taken off the queue (one round trip), and their marks cleared so a later retry may be queued.
        A job another worker already took is left alone: it finds nothing to claim. Returns jobs removed."""
        if not delivery_ids:
            return 0
        from rq.job import Job

        if self._forget is None:
            self._forget = self.connection.register_script(FORGET_SCRIPT)
        jobs = [job_id(i) for i in delivery_ids]
        keys = [self.queue.key] + [Job.key_for(job) for job in jobs] + [queued_mark(i) for i in delivery_ids]
        return int(self._forget(keys=keys, args=jobs))

    def _waiting(self, job: str) -> bool:
        from rq.exceptions import InvalidJobOperation, NoSuchJobError
        from rq.job import Job, JobStatus

        try:
            status = Job.fetch(job, connection=self.connection).get_status()
        except (NoSuchJobError, InvalidJobOperation):  # gone, or removed (`forget`) between the two reads
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


def next_due_in(store: Store, longest: float, shortest: float = 0.5) -> float:
    """Seconds until the next sweep is worth running: when a retry or a dead worker's lease falls due."""
    with store.session() as session:
        due_at = inbox.next_due_at(session)
    if due_at is None:
        return longest
    return min(longest, max(shortest, (due_at - utcnow()).total_seconds() + 0.05))


def sweep(store: Store, queue, limit: int = 500) -> int:
    """Re-send due deliveries (retries, and work a dead worker held once its lease expired)."""
    with store.session() as session:
        due = inbox.due_ids(session, limit=limit)
    for delivery_id in due:
        queue.enqueue(delivery_id)
    return len(due)
