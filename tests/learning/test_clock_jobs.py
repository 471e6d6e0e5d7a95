"""The clock's learning jobs: alerts once per cooldown and a "resolved" message, the retention purge
keeps labels, dead letters are retried, and the persistent job store keeps schedules across restarts."""
from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from config.settings import SettingsError
from config.validation import load_settings
from learning.alerts import check_alerts
from learning.jobs import JOBSTORE, add_learning_jobs
from learning.maintenance import purge_texts, retry_dead_letters
from learning.training_set import base_from_store
from store.models import FAILED, Delivery, PredictionRecord, TicketRecord
from store.types import utcnow
from webhooks.queue import RedisQueue


def settings(**more):
    return load_settings({"triage_alert_cooldown_minutes": 60, **more}, env_file=None)


def add_ticket(session, n: int, received=None, label=None, state=None, error=None) -> TicketRecord:
    ticket = TicketRecord(helpdesk="zendesk", external_id=str(n), subject=f"subject {n}", body="body text",
                          label=label, label_source="backfill" if label else None, received_at=received or utcnow())
    session.add(ticket)
    session.flush()
    if state:
        session.add(Delivery(idempotency_key=f"k{n}", helpdesk="zendesk", event_type="ticket.created",
                             ticket_id=ticket.id, state=state, failed_step="classified" if state == FAILED else None,
                             last_error=error, received_at=received or utcnow()))
    return ticket


def test_an_alert_is_sent_once_per_cooldown_and_resolved_when_it_clears(store):
    sent = []
    with store.session() as session:
        add_ticket(session, 1, state=FAILED, error="Timeout")
        for n in range(2, 32):  # 30 judged tickets, 20 of them re-labelled by a person: accuracy 1/3
            ticket = add_ticket(session, n)
            if n < 22:
                ticket.label, ticket.label_source = "Other", "slack"
            session.add(PredictionRecord(ticket_id=ticket.id, model_version="v1", category="Billing", confidence=0.9,
                                         probabilities={}, decision="auto", threshold=0.7, latency_ms=500.0))
    now = utcnow() + timedelta(seconds=1)
    check_alerts(store, settings(), sent.append, now)
    assert sorted(m.split("(")[1].split(")")[0] for m in sent) == ["accuracy", "accuracy:category:Other",
                                                                    "dead_letters", "latency_p99"]
    assert check_alerts(store, settings(), sent.append, now + timedelta(minutes=5)) == []
    again = check_alerts(store, settings(), sent.append, now + timedelta(minutes=61))
    assert len(again) == 4
    with store.session() as session:
        session.scalar(select(Delivery)).state = "done"
    resolved = check_alerts(store, settings(), sent.append, now + timedelta(minutes=62))
    assert resolved == [":white_check_mark: triage alert resolved (dead_letters): now 0.0"]


def test_the_purge_deletes_old_texts_and_keeps_labels(store):
    now = utcnow()
    with store.session() as session:
        old = add_ticket(session, 1, received=now - timedelta(days=40), label="Billing").id
        add_ticket(session, 2, received=now - timedelta(days=5), label="Access")
    assert purge_texts(store, 30, now) == 1
    assert purge_texts(store, 30, now) == 0
    with store.session() as session:
        ticket = session.get(TicketRecord, old)
        assert (ticket.subject, ticket.body, ticket.label) == (None, None, "Billing") and ticket.purged_at
        assert [e.label for e in base_from_store(session)] == ["Access"]


def test_dead_letters_are_retried_unless_permanent_or_too_old(store, redis_url):
    now, queue = utcnow(), RedisQueue(redis_url)
    with store.session() as session:
        add_ticket(session, 1, state=FAILED, error="Timeout")
        add_ticket(session, 2, state=FAILED, error="permanent: AuthError")
        add_ticket(session, 3, state=FAILED, error="Timeout", received=now - timedelta(days=3))
    retried = retry_dead_letters(store, queue, 24, now)
    assert len(retried) == 1 and [job.args for job in queue.queue.jobs] == [(retried[0],)]
    with store.session() as session:
        assert session.get(Delivery, retried[0]).state == "classified"


def test_jobs_persist_in_the_store_and_keep_their_next_run_across_restarts(store):
    def start(config):
        scheduler = BackgroundScheduler(timezone="UTC")
        add_learning_jobs(scheduler, SimpleNamespace(settings=config, store=store))
        scheduler.start()
        deadline = time.monotonic() + 10
        while len(scheduler.get_jobs(jobstore=JOBSTORE)) < 4 or scheduler.get_job("learning-setup"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.2)
        jobs = {job.id: job for job in scheduler.get_jobs(jobstore=JOBSTORE)}
        scheduler.shutdown()
        return jobs

    first = start(settings())
    assert set(first) == {"retrain", "drift", "alerts", "retry_failed"}
    second = start(settings())
    assert second["retrain"].next_run_time == first["retrain"].next_run_time
    third = start(settings(triage_retrain_cron="0 5 * * *", triage_retention_days=30))
    assert set(third) == {"retrain", "drift", "alerts", "retry_failed", "purge"}
    assert third["retrain"].next_run_time.hour == 5


def test_a_malformed_schedule_stops_start_up_with_one_line():
    with pytest.raises(SettingsError, match=r"^TRIAGE_RETRAIN_CRON: Value error, must be a 5-field cron"):
        load_settings({"triage_retrain_cron": "every sunday"}, env_file=None)


def test_each_job_runs_against_a_real_runtime(store, tmp_path):
    from app import create_app
    from learning import jobs
    from store.models import DriftCheck
    from webhook_app import app_settings

    app = create_app(app_settings(store.url, triage_model_dir=tmp_path / "models", triage_retention_days=30),
                     env_file=None)
    runtime = app.extensions["triage"]
    try:
        jobs.add_learning_jobs(BackgroundScheduler(timezone="UTC"), runtime)
        for run in (jobs.run_retrain, jobs.run_drift_check, jobs.run_alert_check, jobs.run_retry_failed,
                    jobs.run_purge):
            run()  # no training data: the retrain is skipped with a warning, never an exception
        with store.session() as session:
            assert session.scalar(select(DriftCheck.metric)) == "low_confidence"
    finally:
        runtime.close()
