"""`triage serve`: the web server and the ticket worker as two processes, kept running by this one.

The web process (`cli.web_server`, the server `triage web` runs) answers HTTP and never runs a ticket. The
worker process drains the inbox, each ticket in a child process under a time limit (`webhooks.isolation`),
and runs the clock. So no ticket can hold /healthz, and a process that dies is started again (with a growing pause, so
a process that cannot start does not spin). SIGTERM or SIGINT stops both, then this one, with exit code 0.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
import threading

from cli.supervisor import Child, keep_running

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


def serve(settings, host: str, port: int) -> int:
    context = multiprocessing.get_context("spawn")  # nothing of this process (threads, connections) crosses
    metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics adds up the web and the worker processes
        metrics_dir = tempfile.mkdtemp(prefix="triage-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    children = [
        Child("web", lambda: context.Process(target=_run_web, args=(settings, host, port), name="triage-web")),
        Child("worker", lambda: context.Process(target=_run_worker, args=(settings,), name="triage-worker")),
    ]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        keep_running(children, stop, STOP_SECONDS)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
