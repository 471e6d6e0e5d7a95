"""The learning jobs of the clock, kept in a persistent APScheduler job store in our database.

Jobs are stored by reference (`learning.jobs:run_retrain`, no arguments), so the database holds their
schedules and next run times, never a pickled object or a secret; the process running the clock binds
its runtime here before the scheduler starts. A schedule changed in the settings replaces the stored job;
an unchanged one keeps its stored next run time, so a clock restart neither skips nor repeats a retrain.
Only the clock process imports this module (and through it the training code).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from store.types import utcnow

log = logging.getLogger(__name__)
JOBSTORE = "learning"
JOBS_TABLE = "apscheduler_jobs"
_bound: dict[str, object] = {}  # "runtime": the Runtime of the process running the clock


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    func: str
    trigger: object
    grace_seconds: int


def job_specs(settings) -> list[JobSpec]:
    utc = "UTC"
    specs = [
        JobSpec("retrain", "learning.jobs:run_retrain",
                CronTrigger.from_crontab(settings.triage_retrain_cron, utc), 6 * 3600),
        JobSpec("drift", "learning.jobs:run_drift_check",
                CronTrigger.from_crontab(settings.triage_drift_cron, utc), 3600),
        JobSpec("alerts", "learning.jobs:run_alert_check",
                IntervalTrigger(minutes=settings.triage_alert_check_minutes, timezone=utc), 60),
        JobSpec("retry_failed", "learning.jobs:run_retry_failed",
                IntervalTrigger(minutes=settings.triage_retry_failed_minutes, timezone=utc), 300),
    ]
    if settings.triage_retention_days:
        specs.append(JobSpec("purge", "learning.jobs:run_purge",
                             CronTrigger.from_crontab(settings.triage_purge_cron, utc), 6 * 3600))
    return specs


def add_learning_jobs(scheduler, runtime) -> None:
    """Bind `runtime`, add the persistent job store and a one-off job that reconciles the stored jobs."""
    _bound["runtime"] = runtime
    scheduler.add_jobstore(SQLAlchemyJobStore(engine=runtime.store.engine, tablename=JOBS_TABLE), JOBSTORE)
    scheduler.add_job(reconcile, args=[scheduler, runtime.settings], id="learning-setup", next_run_time=utcnow(),
                      jobstore="default")


def reconcile(scheduler, settings) -> None:
    wanted = {spec.job_id: spec for spec in job_specs(settings)}
    for job in scheduler.get_jobs(jobstore=JOBSTORE):
        if job.id not in wanted:
            scheduler.remove_job(job.id, jobstore=JOBSTORE)
    for spec in wanted.values():
        stored = scheduler.get_job(spec.job_id, jobstore=JOBSTORE)
        if stored is not None and str(stored.trigger) == str(spec.trigger) and stored.func_ref == spec.func:
            continue
        scheduler.add_job(spec.func, spec.trigger, id=spec.job_id, jobstore=JOBSTORE, replace_existing=True,
                          max_instances=1, coalesce=True, misfire_grace_time=spec.grace_seconds)
        log.info("scheduled", extra={"job": spec.job_id, "trigger": str(spec.trigger)})


def _runtime():
    return _bound["runtime"]


def _registry(settings):
    from classifier.registry import ModelRegistry

    return ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)


def run_retrain() -> None:
    from learning.retrain import RetrainError, retrain

    runtime = _runtime()
    try:
        retrain(runtime.settings, runtime.store, _registry(runtime.settings))
    except RetrainError as exc:
        log.warning("retrain skipped", extra={"reason": str(exc)})


def run_drift_check() -> None:
    from learning.drift import run_check

    runtime = _runtime()
    rows = run_check(runtime.store, _registry(runtime.settings), utcnow())
    log.info("drift checked", extra={"figures": len(rows)})


def run_alert_check() -> None:
    from learning.alerts import check_alerts, slack_sender
    from learning.promotion import sync_versions

    runtime = _runtime()
    sync_versions(runtime.store, _registry(runtime.settings))  # `triage models promote|rollback` from a shell
    check_alerts(runtime.store, runtime.settings, slack_sender(runtime.settings), utcnow())


def run_retry_failed() -> None:
    from learning.maintenance import retry_dead_letters

    runtime = _runtime()
    retry_dead_letters(runtime.store, runtime.queue, runtime.settings.triage_retry_failed_hours, utcnow())


def run_purge() -> None:
    from learning.maintenance import purge_texts

    runtime = _runtime()
    if runtime.settings.triage_retention_days:
        purge_texts(runtime.store, runtime.settings.triage_retention_days, utcnow())
