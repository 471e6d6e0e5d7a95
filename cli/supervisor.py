"""Child processes kept running by their parent: `triage serve` (web + worker) and `triage web --processes N`.

A process that dies is started again after a pause that grows while it keeps dying quickly (so one that
cannot start does not spin); asked to stop, every child gets SIGTERM (each stops gracefully on it), then
SIGKILL if it is still running after `stop_seconds`.
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import wait
from typing import Callable

log = logging.getLogger(__name__)
RESTART_PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)  # after the 1st, 2nd, ... quick death in a row
STABLE_SECONDS = 60.0  # a process that ran this long starts again at the shortest pause


class Child:
    """One supervised role: `start` makes a new (not yet started) process; `on_exit(pid)` runs after each exit."""

    def __init__(self, name: str, start: Callable[[], multiprocessing.Process],
                 on_exit: Callable[[int], None] | None = None):
        self.name, self._start, self._on_exit = name, start, on_exit
        self.process: multiprocessing.Process | None = None
        self.started_at, self.quick_deaths, self.restart_at = 0.0, 0, 0.0

    def start(self) -> None:
        self.process = self._start()
        self.process.start()
        self.started_at = time.monotonic()
        log.info("process started", extra={"role": self.name, "pid": self.process.pid})

    def note_death(self) -> None:
        ran = time.monotonic() - self.started_at
        self.quick_deaths = 0 if ran >= STABLE_SECONDS else self.quick_deaths + 1
        pause = RESTART_PAUSES[min(self.quick_deaths, len(RESTART_PAUSES) - 1)]
        log.warning("process died; starting it again", extra={
            "role": self.name, "exit_code": self.process.exitcode, "ran_seconds": round(ran, 1),
            "restart_in_seconds": pause})
        self._exited()
        self.restart_at = time.monotonic() + pause

    def _exited(self) -> None:
        if self._on_exit is not None:
            self._on_exit(self.process.pid)
        self.process = None


def keep_running(children: list[Child], stop: threading.Event, stop_seconds: float) -> None:
    """Start every child and keep each running until `stop` is set; then stop them all."""
    try:
        for child in children:
            child.start()
        while not stop.is_set():
            wait([child.process.sentinel for child in children if child.process is not None], timeout=0.5)
            for child in children:
                if stop.is_set():
                    break
                if child.process is not None and not child.process.is_alive():
                    child.note_death()
                elif child.process is None and time.monotonic() >= child.restart_at:
                    child.start()
    finally:
        _stop_all(children, stop_seconds)


def _stop_all(children: list[Child], stop_seconds: float) -> None:
    for child in children:
        if child.process is not None and child.process.is_alive():
            child.process.terminate()  # SIGTERM: the web server and the worker both stop gracefully on it
    deadline = time.monotonic() + stop_seconds
    for child in children:
        if child.process is not None:
            child.process.join(max(0.1, deadline - time.monotonic()))
            if child.process.is_alive():
                child.process.kill()
                child.process.join()
            child._exited()
