"""Deliveries claimed and classified in batches keep every guarantee of one-at-a-time processing: each is
processed exactly once, a delivery whose lease moved mid-batch gets nothing written, and a batch stopped
at the time limit is run again one delivery at a time, so one bad ticket fails alone."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, update

from classifier.ticket import Ticket
from integrations.inbound import TICKET_CREATED, InboundEvent
from store import inbox
from store.models import DONE, RECEIVED, Delivery, PredictionRecord, ReviewMessage, WriteBack
from webhook_app import app_settings

SUBJECTS = ["I need a refund for order {n}", "how do I change my shipping address", "cancel my account please",
            "the parcel {n} has not arrived", "hello", "I want to leave feedback, a review of your service"]


def deliver(store, n: int, subject: str | None = None) -> int:
    event = InboundEvent(helpdesk="zendesk", event_type=TICKET_CREATED, ticket_id=str(n),
                         ticket=Ticket(subject=subject or SUBJECTS[n % len(SUBJECTS)].format(n=n), body=f"ticket {n}"),
                         idempotency_key=f"zendesk:ticket.created:{n}")
    with store.session() as session:
        return inbox.record_delivery(session, event)[0]


def recorded_once(store, ids: list[int]) -> None:
    with store.session() as session:
        per_delivery = dict(session.execute(select(PredictionRecord.delivery_id, func.count())
                                            .group_by(PredictionRecord.delivery_id)).all())
        assert per_delivery == {i: 1 for i in ids}
        routed = session.scalar(select(func.count()).select_from(WriteBack))
        reviewed = session.scalar(select(func.count()).select_from(ReviewMessage))
        assert routed + reviewed == len(ids)
        assert session.scalar(select(func.count()).where(Delivery.state != DONE)) == 0
        assert session.scalar(select(func.count()).where(Delivery.attempts > 0)) == 0


def test_one_job_claims_other_due_deliveries_and_each_is_recorded_once(app, store):
    runtime = app.extensions["triage"]
    ids = [deliver(store, n) for n in range(20)]
    outcomes = runtime.pipeline.process_batch([ids[5]], "w1", more=15)
    assert len(outcomes) == 16 and set(outcomes.values()) == {DONE}
    assert ids[5] in outcomes and set(outcomes) <= set(ids)
    with store.session() as session:
        assert session.scalar(select(func.count()).where(Delivery.state == DONE)) == 16
    assert runtime.pipeline.process(ids[5], "w2") == "not_claimed"  # its job, run late, finds nothing to do
    rest = runtime.pipeline.process_batch([], "w2", more=15)
    assert set(rest) == set(ids) - set(outcomes)
    recorded_once(store, ids)


def test_workers_racing_over_the_same_deliveries_process_each_once(app, store):
    runtime = app.extensions["triage"]
    ids = [deliver(store, n) for n in range(60)]
    start = threading.Barrier(3)

    def drain(owner: str) -> None:
        start.wait()
        for delivery_id in ids:
            runtime.pipeline.process_batch([delivery_id], owner, more=7)

    threads = [threading.Thread(target=drain, args=(f"w{k}",)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded_once(store, ids)


def test_a_delivery_whose_lease_moved_mid_batch_gets_nothing_written(app, store, monkeypatch):
    runtime = app.extensions["triage"]
    ids = [deliver(store, n) for n in range(5)]
    model = runtime.models.get()
    predict_batch = model.predict_batch

    def stalls_past_the_lease(tickets):  # meanwhile the lease ran out and another worker took one
        with store.session() as session:
            session.execute(update(Delivery).where(Delivery.id == ids[2]).values(lease_owner="thief"))
        return predict_batch(tickets)

    monkeypatch.setattr(model, "predict_batch", stalls_past_the_lease)
    outcomes = runtime.pipeline.process_batch(ids, "w1")
    assert outcomes == {**{i: DONE for i in ids}, ids[2]: "lease_lost"}
    with store.session() as session:
        stolen = session.get(Delivery, ids[2])
        assert (stolen.state, stolen.lease_owner) == (RECEIVED, "thief")
        assert session.scalars(select(PredictionRecord.delivery_id)).all().count(ids[2]) == 0
        assert session.scalar(select(func.count()).where(WriteBack.delivery_id == ids[2])) == 0
        assert session.scalar(select(func.count()).where(ReviewMessage.delivery_id == ids[2])) == 0
        assert session.scalar(select(func.count()).select_from(PredictionRecord)) == 4


def test_a_batch_that_fails_runs_one_by_one_so_a_bad_ticket_fails_alone(app, store, monkeypatch):
    runtime = app.extensions["triage"]
    ids = [deliver(store, n) for n in range(4)]
    bad = deliver(store, 99, "this ticket breaks the model")
    model = runtime.models.get()
    predict_batch = model.predict_batch

    def breaks_on_one(tickets):
        if any("breaks" in t.subject for t in tickets):
            raise ValueError("the model cannot read this ticket")
        return predict_batch(tickets)

    monkeypatch.setattr(model, "predict_batch", breaks_on_one)
    outcomes = runtime.pipeline.process_batch(ids + [bad], "w1")
    assert outcomes == {**{i: DONE for i in ids}, bad: RECEIVED}  # a failed attempt, to be retried
    with store.session() as session:
        assert session.get(Delivery, bad).attempts == 1
        assert "cannot read this ticket" in session.get(Delivery, bad).last_error
        assert session.scalar(select(func.count()).select_from(PredictionRecord)) == 4


@pytest.mark.timeout(240)
def test_a_batch_stopped_at_the_time_limit_is_retried_one_by_one(store, tmp_path):
    import hanging_tasks
    from config.validation import load_settings
    from webhooks.isolation import TimeLimitedRunner
    from webhooks.runtime import build_runtime

    class Runner(TimeLimitedRunner):
        batch_task = staticmethod(hanging_tasks.batch_task)
        single_task = staticmethod(hanging_tasks.single_task)

    settings = load_settings(app_settings(store.url, triage_model_dir=tmp_path / "models",
                                          triage_ticket_time_limit_seconds=3, triage_lease_seconds=30,
                                          triage_max_attempts=3), env_file=None)
    neighbours = [deliver(store, n) for n in range(4)]
    hanging = deliver(store, 50, "HANG on this one")
    runner = Runner(settings, store, processes=1, build_runtime=build_runtime)
    try:
        began = time.monotonic()
        outcomes = runner.process_batch(neighbours + [hanging], "w1")
        assert time.monotonic() - began >= 3 * 2  # the batch, then the hanging one alone, each stopped
    finally:
        runner.stop()
    assert outcomes == {**{i: DONE for i in neighbours}, hanging: RECEIVED}
    with store.session() as session:
        stopped = session.get(Delivery, hanging)
        assert stopped.attempts == 1 and "longer than 3 s" in stopped.last_error and stopped.lease_owner is None
        assert [session.get(Delivery, i).attempts for i in neighbours] == [0] * 4  # the batch's stop cost them nothing
        assert session.scalar(select(func.count()).select_from(PredictionRecord)) == 4
