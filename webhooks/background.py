"""Work a request hands off after it answered (a route's Slack update and write-back, a retry, a model reload).

Each such thread is tracked so that closing the runtime waits for it, up to a bound: a shutdown (or a test's
teardown) then never cuts a helpdesk write or a store transaction off half way. What did not finish in time is
still safe: the write-back is pending in the store and the clock's sweep writes it later.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)
CLOSE_WAIT_SECONDS = 15.0  # a helpdesk call's own timeout and retries fit inside it


class BackgroundWork:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[threading.Thread] = set()

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

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def wait(self, timeout: float = CLOSE_WAIT_SECONDS) -> bool:
        """True when every handed-off thread finished within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._running)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = [t.name for t in threads if t.is_alive()]
        if left:
            log.warning("background work still running at close; the sweep finishes what it left",
                        extra={"workers": left})
        return not left
