"""`triage serve`: the web server and the ticket worker as two processes, kept running by this one.

The web process (`cli.web_server`, the server `triage web` runs) answers HTTP and never runs a ticket. The
worker process drains the inbox, each ticket in a child process under a time limit (`webhooks.isolation`),
and runs the clock. So no ticket can hold /healthz, and a process that dies is started again (with a growing pause, so
a process that cannot start does not spin). SIGTERM or SIGINT stops both, then this one, with exit code 0.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from multiprocessing.connection import wait

log = logging.getLogger(__name__)
RESTART_PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)  # after the 1st, 2nd, ... quick death in a row
STABLE_SECONDS = 60.0  # a process that ran this long starts again at the shortest pause
STOP_SECONDS = 30.0


def _run_web(settings, host: str, port: int) -> None:
    from cli.web_server import run_web

    raise SystemExit(run_web(settings, host, port))  # the Procfile's `triage web`, the same server


def _run_worker(settings) -> None:
    from telemetry.json_logs import configure_logging
    from webhooks.runtime import build_runtime
    from webhooks.worker import run_worker

    configure_logging(settings=settings)
    raise SystemExit(run_worker(build_runtime(settings, workers="isolated"), with_clock=True))


class _Child:
    def __init__(self, name: str, start):
        self.name, self._start = name, start
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
        self.process, self.restart_at = None, time.monotonic() + pause

    def stop(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.process.terminate()  # SIGTERM: the web server and the worker both stop gracefully on it


def serve(settings, host: str, port: int) -> int:
    context = multiprocessing.get_context("spawn")  # nothing of this process (threads, connections) crosses
    metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics adds up the web and the worker processes
        metrics_dir = tempfile.mkdtemp(prefix="triage-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    children = [
        _Child("web", lambda: context.Process(target=_run_web, args=(settings, host, port), name="triage-web")),
        _Child("worker", lambda: context.Process(target=_run_worker, args=(settings,), name="triage-worker")),
    ]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        for child in children:
            child.start()
        _supervise(children, stop)
    finally:
        for child in children:
            child.stop()
        deadline = time.monotonic() + STOP_SECONDS
        for child in children:
            if child.process is not None:
                child.process.join(max(0.1, deadline - time.monotonic()))
                if child.process.is_alive():
                    child.process.kill()
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _supervise(children: list[_Child], stop: threading.Event) -> None:
    while not stop.is_set():
        running = [child.process.sentinel for child in children if child.process is not None]
        wait(running, timeout=0.5)
        for child in children:
            if child.process is not None and not child.process.is_alive() and not stop.is_set():
                child.note_death()
            elif child.process is None and time.monotonic() >= child.restart_at and not stop.is_set():
                child.start()
