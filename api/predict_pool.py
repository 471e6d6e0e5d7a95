"""Runs predict API calls in child processes with a bounded share, so predict traffic cannot starve intake.

The model holds the GIL and a core while it works; in the web process's request threads, a greedy
`/predict/batch` client would starve `/healthz`, the webhooks and Slack. Here each call goes to one of
`TRIAGE_PREDICT_PROCESSES` spawned children (pebble, like `webhooks.isolation` for tickets), which load
the model themselves (polling the registry for a promoted one) and run at a lower CPU priority
(`PREDICT_NICENESS`), so the web process keeps the cores when both want them.

The share is bounded in calls: at most `processes` run and `TRIAGE_PREDICT_QUEUE` wait; a further call is
refused at once (`Busy`: 429 with Retry-After). Calls, not tickets: each child runs one call at a time in
arrival order, so weighting a call by its tickets would not let a small call overtake a big one; it would
only let more small calls wait behind it. A batch is capped at 1,000 tickets, and the time limit bounds
what one call can hold a process: a call still running after `TRIAGE_PREDICT_TIME_LIMIT_SECONDS` is
stopped (its child killed and replaced) and answered 503 (`Unavailable`).

The pool starts on the first call (or at start with `TRIAGE_PRELOAD_MODEL`) and stops with `stop()`, or
at the process's exit (atexit).
"""
from __future__ import annotations

import atexit
import logging
import math
import multiprocessing
import threading
import time
import weakref
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager

from pebble import ProcessExpired, ProcessPool

from classifier.ticket import Ticket

log = logging.getLogger(__name__)
PREDICT_NICENESS = 10  # the children's niceness at least: the web process wins the cores
RESTART_SECONDS = 5  # Retry-After after a stopped or dead child: about what a new child takes to load the model
MODEL_RETRY_SECONDS = 10.0  # a child whose model could not load tries again after this
START_GRACE_SECONDS = 120.0  # beyond the time limits: how long a caller may wait for children to start
_child: dict = {}  # in a child: "models" (the model holder), or "error" and "failed_at" when it could not load


class Busy(Exception):
    """Every predict process and queue place is taken: answer 429 with `retry_after` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"retry after {retry_after} s")


class Unavailable(Exception):
    """The call was stopped, its process died, or the model cannot load: answer 503 with `retry_after`."""

    def __init__(self, reason: str, detail: str, retry_after: int = RESTART_SECONDS):
        self.reason, self.detail, self.retry_after = reason, detail, retry_after
        super().__init__(detail)


class Unclassifiable(Exception):
    """The model raised on this (valid) input: answer 400, as the web process did before the pool."""


def _start_child(settings) -> None:
    """Pool initializer: lower priority, logging, and the model loaded and warmed before the first call
    (so the time limit, which counts from the call's start, never includes loading)."""
    from telemetry.json_logs import configure_logging
    from webhooks.worker import lower_priority

    lower_priority(PREDICT_NICENESS)

    configure_logging(settings=settings)
    _child["settings"] = settings
    _load_models(settings)


def _load_models(settings) -> None:
    from classifier.registry import ModelRegistry
    from webhooks.model_holder import ModelHolder

    try:
        holder = ModelHolder(ModelRegistry(settings.triage_model_dir, settings.triage_starter_model),
                             poll_seconds=settings.triage_model_poll_seconds)
        holder.get()
        _child["models"] = holder
    except Exception as exc:  # kept, not raised: pebble would restart a failing initializer in a loop
        log.exception("predict process could not load the model")
        _child.update(error=f"{type(exc).__name__}: {exc}", failed_at=time.monotonic())


def _predict_in_child(tickets: list[Ticket], batch: bool) -> tuple:
    """("ok", predictions as dicts) | ("unclassifiable", error name) | ("model_unavailable", reason)."""
    if "models" not in _child and time.monotonic() - _child.get("failed_at", 0.0) >= MODEL_RETRY_SECONDS:
        _load_models(_child["settings"])
    if "models" not in _child:
        return "model_unavailable", _child.get("error", "unknown error")
    model = _child["models"].get()
    try:
        if batch:
            return "ok", [p.to_dict() for p in model.predict_batch(tickets)]
        return "ok", model.predict(tickets[0]).to_dict()
    except Exception as exc:
        log.exception("the model failed on a valid request")
        return "unclassifiable", type(exc).__name__


def _warm_up() -> bool:
    return "models" in _child


class PredictPool:
    """`predict(tickets, batch)` -> `Prediction.to_dict()` dict(s), computed in a child process; raises
    `Busy`, `Unavailable` or `Unclassifiable`. Thread-safe; one per web app."""

    def __init__(self, settings, initializer=_start_child):
        self.settings = settings
        self.processes = settings.triage_predict_processes
        queue = settings.triage_predict_queue
        self.queue = 2 * self.processes if queue is None else queue
        self.capacity = self.processes + self.queue
        self.time_limit = settings.triage_predict_time_limit_seconds
        self._initializer = initializer
        self._lock = threading.Lock()
        self._pool: ProcessPool | None = None
        self._in_flight = 0
        self._call_seconds = 1.0  # moving average of a call's time from admission to answer, for Retry-After
        self._stopped = False
        _live_pools.add(self)

    @property
    def in_flight(self) -> int:
        """Calls admitted and not yet answered (running or waiting)."""
        return self._in_flight

    def start(self) -> None:
        """Start the children now (with TRIAGE_PRELOAD_MODEL), not on the first call."""
        self._ensure_pool().schedule(_warm_up)

    def check_room(self) -> None:
        """Raise `Busy` if every place is taken now (a cheap look before the body is read; not a reservation)."""
        with self._lock:
            if self._in_flight >= self.capacity:
                raise self._busy()

    @contextmanager
    def place(self):
        """Hold one of the `capacity` places for a call, or raise `Busy` at once."""
        with self._lock:
            if self._in_flight >= self.capacity:
                raise self._busy()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def predict(self, tickets: list[Ticket], batch: bool):
        """The predictions as dicts (a list for a batch); call it holding a `place()`."""
        return self._run(tickets, batch)

    def _busy(self) -> Busy:
        # when full, `capacity` calls that each take `_call_seconds` (waiting included) free a place about
        # every `_call_seconds / capacity` seconds (Little's law)
        return Busy(max(1, min(math.ceil(self._call_seconds / self.capacity), math.ceil(self.time_limit))))

    def _run(self, tickets: list[Ticket], batch: bool):
        began = time.monotonic()
        future = self._ensure_pool().schedule(_predict_in_child, args=(tickets, batch),
                                              timeout=self.time_limit)
        # the child enforces the time limit once the call starts; this bounds the wait before it starts
        waiting_limit = self.time_limit * (self.capacity + 1) + START_GRACE_SECONDS
        try:
            status, value = future.result(timeout=waiting_limit)
        except FutureTimeout:
            if future.done():  # pebble stopped the call at its time limit (and replaces its child)
                raise Unavailable("time_limit", f"the prediction took longer than {self.time_limit:g} s "
                                  "(TRIAGE_PREDICT_TIME_LIMIT_SECONDS) and was stopped; send fewer tickets "
                                  "per call") from None
            future.cancel()
            raise Unavailable("time_limit", f"no predict process started within {waiting_limit:g} s") from None
        except ProcessExpired as exc:
            raise Unavailable("process_died", f"the predict process died (exit code {exc.exitcode}); "
                                              "it has been replaced") from None
        except Exception as exc:  # the pool itself failed (a pickling error, a broken pool): a new one next time
            log.exception("the predict pool failed")
            self._discard_pool()
            raise Unavailable("process_died", f"the predict processes failed ({type(exc).__name__})") from None
        if status == "unclassifiable":
            raise Unclassifiable(value)
        if status == "model_unavailable":
            raise Unavailable("model_unavailable", f"the model could not be loaded ({value[:200]})",
                              retry_after=math.ceil(MODEL_RETRY_SECONDS))
        with self._lock:
            self._call_seconds = 0.8 * self._call_seconds + 0.2 * (time.monotonic() - began)
        return value

    def _ensure_pool(self) -> ProcessPool:
        with self._lock:
            if self._stopped:
                raise Unavailable("stopped", "the predict processes have been stopped: the service is shutting down")
            if self._pool is None:
                self._pool = ProcessPool(max_workers=self.processes, initializer=self._initializer,
                                         initargs=(self.settings,), context=multiprocessing.get_context("spawn"))
            return self._pool

    def _discard_pool(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()

    def stop(self) -> None:
        """Stop the children (waiting calls get 503); safe to call twice."""
        with self._lock:
            self._stopped = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join(timeout=10)


EXTENSION = "triage.predict_pool"  # app.extensions key of the app's pool
_live_pools: "weakref.WeakSet[PredictPool]" = weakref.WeakSet()


def predict_pool(app) -> PredictPool:
    """The app's pool (made on first use; its children start on the first call)."""
    pool = app.extensions.get(EXTENSION)
    if pool is None:
        pool = app.extensions.setdefault(EXTENSION, PredictPool(app.extensions["triage"].settings))
    return pool


def stop_predict_pool(app) -> None:
    """Stop the app's predict processes, if it started any (the web server's shutdown; tests)."""
    pool = app.extensions.pop(EXTENSION, None)
    if pool is not None:
        pool.stop()


@atexit.register
def _stop_all() -> None:
    for pool in list(_live_pools):
        pool.stop()
