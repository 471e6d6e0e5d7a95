"""Work a request hands off after it answered (a route's Slack update and write-back, a retry, a model reload,
a Slack click's lazy listener).

Each such thread or pooled task is tracked so that closing the runtime waits for it, up to a bound: a
shutdown (or a test's teardown) then never cuts a helpdesk write or a store transaction off half way. What
did not finish in time is still safe: the write-back is pending in the store and the clock's sweep writes it
later.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from typing import Callable

log = logging.getLogger(__name__)
CLOSE_WAIT_SECONDS = 15.0  # a helpdesk call's own timeout and retries fit inside it


class BackgroundWork:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[threading.Thread] = set()
        self._pending: set[Future] = set()
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def start(self, target: Callable[..., object], *args, name: str) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except Exception:  # the request already answered: the log is where this failure can be seen
                log.exception("background work failed", extra={"worker": name})
            finally:
                with self._lock:
                    self._running.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._running.add(thread)
        thread.start()
        return thread

    def pool(self, name: str, max_workers: int) -> ThreadPoolExecutor:
        """A bounded pool (one per name), tracked like `start`: a burst of requests waits for a free thread
        instead of starting one thread each. For per-ticket work (an admin route's write-back) and for a
        library that runs work on an executor (bolt's lazy listeners)."""
        with self._lock:
            if name not in self._pools:
                self._pools[name] = _TrackedPool(self, name, max_workers)
            return self._pools[name]

    def running(self) -> int:
        with self._lock:
            return len(self._running) + len(self._pending)

    def wait(self, timeout: float = CLOSE_WAIT_SECONDS) -> bool:
        """True when every handed-off thread and pooled task finished within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads, futures = list(self._running), list(self._pending)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        unfinished = wait_for_futures(futures, max(0.0, deadline - time.monotonic())).not_done
        left = [t.name for t in threads if t.is_alive()]
        if unfinished:
            left.append(f"{len(unfinished)} pooled task(s)")
        if left:
            log.warning("background work still running at close; the sweep finishes what it left",
                        extra={"workers": left})
        return not left

    def close(self, timeout: float = CLOSE_WAIT_SECONDS) -> bool:
        """`wait`, then the pools take nothing new and drop what they have not started, so the process can
        exit: a dropped write-back is pending in the store (the clock's sweep writes it) and a dropped Slack
        click leaves its message's buttons in place. What is running goes on: Python waits for a pool's
        threads at exit, and each helpdesk or Slack call has its own timeout."""
        finished = self.wait(timeout)
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        return finished

    def _track(self, future: Future) -> None:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._untrack)

    def _untrack(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)


class _TrackedPool(ThreadPoolExecutor):
    def __init__(self, work: BackgroundWork, name: str, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._work, self._name = work, name

    def submit(self, fn, /, *args, **kwargs) -> Future:
        def logged(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception:  # nobody reads this future's result: the log is where the failure is seen
                log.exception("background work failed", extra={"worker": self._name})
                raise

        future = super().submit(logged, *args, **kwargs)
        self._work._track(future)
        return future
