"""The clock: periodic jobs run by exactly one process (`triage clock`, or inside `triage serve`).

The sweeps live in memory; the learning jobs (`learning.jobs`) in a persistent job store in the database."""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from learning.jobs import add_learning_jobs
from integrations.corrections import sweep_corrections
from webhooks.queue import sweep
from webhooks.waiting import DRAIN_SECONDS, sweep_waiting

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15


def build_scheduler(runtime) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(_sweep, "interval", seconds=SWEEP_SECONDS, args=[runtime], id="sweep",
                      max_instances=1, coalesce=True, replace_existing=True)
    scheduler.add_job(sweep_corrections, "interval", seconds=SWEEP_SECONDS, args=[runtime], id="corrections",
                      max_instances=1, coalesce=True, replace_existing=True)
    scheduler.add_job(sweep_waiting, "interval", seconds=DRAIN_SECONDS, args=[runtime], id="waiting",
                      max_instances=1, coalesce=True, replace_existing=True)
    add_learning_jobs(scheduler, runtime)  # retrain, drift, alerts, retry of failed deliveries, purge
    return scheduler


def _sweep(runtime) -> None:
    resent = sweep(runtime.store, runtime.queue)
    if resent:
        log.info("sweep re-sent deliveries", extra={"count": resent})
