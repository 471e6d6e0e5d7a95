"""`triage worker` processes (with their ticket processes) killed with SIGKILL mid-ticket: on restart every
ticket finishes exactly once.

Runs both queue modes (the store's inbox, and RQ on the real Redis) on both databases.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from classifier.ticket import Ticket
from integrations.inbound import TICKET_CREATED, InboundEvent
from store import inbox
from store.models import DONE, OPEN_STATES, Delivery, PredictionRecord, ReviewMessage, WriteBack
from webhook_app import REPO, app_settings
from webhooks.queue import RedisQueue

TICKETS = 480  # batches of 16 finish 120 so fast that a kill can miss every one in progress
SUBJECTS = ["I need a refund for order {n}", "how do I change my shipping address {n}", "cancel my account {n}",
            "where is my invoice number {n}", "the payment of {n} failed", "hello {n}"]


def worker_env(database_url: str, redis_url: str | None, tmp_path) -> dict:
    settings = app_settings(database_url, triage_model_dir=tmp_path / "models", triage_lease_seconds=2,
                            triage_workers=2, redis_url=redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "DATABASE_URL", "REDIS_URL"))}
    env.update({name.upper(): str(value) for name, value in settings.items() if value is not None})
    env["HF_HUB_OFFLINE"] = "1"
    return env


def start_worker(env: dict, log_path) -> subprocess.Popen:
    log = open(log_path, "ab")
    # its own process group: the kill below takes the worker and its ticket processes at once, as a crash
    # of the machine or the container would (killing only the parent lets the children finish their tickets)
    return subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=REPO, env=env, stdout=log, stderr=log,
                            start_new_session=True)


def counts(store) -> tuple[int, int]:
    """(done, open and leased right now)"""
    with store.session() as session:
        done = session.scalar(select(func.count()).where(Delivery.state == DONE))
        leased = session.scalar(select(func.count()).where(Delivery.state.in_(OPEN_STATES),
                                                           Delivery.lease_owner.is_not(None)))
    return done, leased


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("mode", ["inbox", "rq"])
def test_a_worker_killed_mid_ticket_loses_nothing_and_repeats_nothing(store, redis_url, tmp_path, mode):
    env = worker_env(store.url, redis_url if mode == "rq" else None, tmp_path)
    queue = RedisQueue(redis_url) if mode == "rq" else None
    for n in range(TICKETS):
        event = InboundEvent(helpdesk="zendesk", event_type=TICKET_CREATED, ticket_id=str(1000 + n),
                             ticket=Ticket(subject=SUBJECTS[n % len(SUBJECTS)].format(n=n)),
                             idempotency_key=f"zendesk:ticket.created:{1000 + n}")
        with store.session() as session:
            delivery_id, _ = inbox.record_delivery(session, event)
        if queue:
            queue.enqueue(delivery_id)

    killed_mid_ticket = False
    for _ in range(5):  # kill until a kill lands mid-ticket (a lease left behind by the dead worker)
        worker = start_worker(env, tmp_path / "worker.log")
        before = counts(store)[0]
        try:
            wait_for(lambda: counts(store)[0] >= before + 5 and counts(store)[1] > 0, 180,
                     "the worker to be mid-ticket")
            assert os.getpriority(os.PRIO_PROCESS, worker.pid) >= 10  # intake first: the worker yields the CPU
        finally:  # killed whatever happened: a worker left running would take later tests' jobs
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        if counts(store)[1] > 0:
            killed_mid_ticket = True
            break
    assert killed_mid_ticket, "no kill landed while a ticket was in progress"
    assert counts(store)[0] < TICKETS

    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: counts(store)[0] == TICKETS, 240, "every ticket to finish after the restart")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    with store.session() as session:
        per_delivery = session.execute(select(PredictionRecord.delivery_id, func.count())
                                       .group_by(PredictionRecord.delivery_id)).all()
        assert len(per_delivery) == TICKETS and {n for _, n in per_delivery} == {1}
        routed = session.scalar(select(func.count()).select_from(WriteBack))
        reviewed = session.scalar(select(func.count()).select_from(ReviewMessage))
        assert routed + reviewed == TICKETS
        assert session.scalar(select(func.count()).where(WriteBack.state != "done")) == 0
        # a second worker repeating a step would have hit a constraint and recorded a failed attempt
        assert session.execute(select(Delivery.id, Delivery.last_error).where(Delivery.attempts > 0)).all() == []
