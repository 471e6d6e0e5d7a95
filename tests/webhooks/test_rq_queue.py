"""With REDIS_URL the receiver queues delivery ids on RQ (real Redis) and workers run the pipeline."""
from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from helpdesk_signing import zendesk_signed_headers
from store.models import DONE, Delivery
from webhook_app import ZENDESK_SECRET, app_settings
from webhooks import jobs
from webhooks.queue import RQ_QUEUE_NAME, RedisQueue, sweep

BODY = b'{"ticket_id": "77", "subject": "I need a refund", "description": "my order arrived broken"}'


def make_app(store, tmp_path, redis_url):
    from app import create_app

    return create_app(app_settings(store.url, redis_url=redis_url, triage_model_dir=tmp_path / "m"), env_file=None)


def post(app):
    headers = {"Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, BODY)}
    return app.test_client().post("/webhooks/zendesk", data=BODY, headers=headers)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_accepted_delivery_is_queued_by_id_and_processed_by_an_rq_worker(store, tmp_path, redis_url):
    app = make_app(store, tmp_path, redis_url)
    runtime = app.extensions["triage"]
    response = post(app)
    assert response.status_code == 202
    delivery_id = response.get_json()["delivery_id"]
    queue = Queue(RQ_QUEUE_NAME, connection=runtime.queue.connection)
    assert [job.args for job in queue.jobs] == [(delivery_id,)]
    assert post(app).get_json()["duplicate"] is True
    assert len(queue.jobs) == 1  # a duplicate is not queued again

    jobs.bind(runtime.pipeline, "rq-test")
    SimpleWorker([queue], connection=runtime.queue.connection).work(burst=True)
    with store.session() as session:
        assert session.get(Delivery, delivery_id).state == DONE
    runtime.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_delivery_accepted_while_redis_is_down_is_sent_by_the_sweeper(store, tmp_path, redis_url):
    app = make_app(store, tmp_path, "redis://127.0.0.1:1/0")  # nothing listens there
    response = post(app)
    assert response.status_code == 202  # stored: accepted even though the queue is down
    delivery_id = response.get_json()["delivery_id"]
    working = RedisQueue(redis_url)
    assert sweep(store, working) == 1
    assert [job.args for job in working.queue.jobs] == [(delivery_id,)]
    app.extensions["triage"].close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_sweepers_queue_each_due_delivery_once(store, redis_url):
    """The clock's and the worker's sweepers both re-send due deliveries: the queue never holds more jobs
    than deliveries are pending, however often and however concurrently they run."""
    import threading

    from classifier.ticket import Ticket
    from integrations.inbound import InboundEvent
    from store import inbox

    pending = 150
    with store.session() as session:
        ids = [inbox.record_delivery(session, InboundEvent.ticket_created(
            "zendesk", str(1000 + n), Ticket(subject="s", body="b"), None))[0] for n in range(pending)]
    sweepers = [RedisQueue(redis_url), RedisQueue(redis_url)]
    lengths, start = [], threading.Barrier(3)

    def sweep_often(queue):
        start.wait()
        for _ in range(15):
            sweep(store, queue)

    threads = [threading.Thread(target=sweep_often, args=(queue,)) for queue in sweepers]
    for thread in threads:
        thread.start()
    start.wait()
    while any(thread.is_alive() for thread in threads):
        lengths.append(sweepers[0].queue.count)
    for thread in threads:
        thread.join()
    assert max(lengths + [0]) <= pending
    assert sweepers[0].queue.count == pending
    assert sorted(job.args[0] for job in sweepers[0].queue.jobs) == ids

    # a worker ran one job: that delivery, due again (a retry), may be queued again, once
    processed = []
    jobs.bind(type("Runner", (), {"process": lambda self, i, owner: processed.append(i) or "routed"})(),
              "rq-test", sweepers[0])
    SimpleWorker([sweepers[0].queue], connection=sweepers[0].connection).work(burst=True, max_jobs=1)
    (done,) = processed  # whichever job the two sweepers queued first
    assert done in ids and sweepers[0].queue.count == pending - 1
    assert sweepers[1].enqueue(done) is True
    assert sweepers[0].enqueue(done) is False
    assert sweepers[0].queue.count == pending
    for queue in sweepers:
        queue.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_job_is_queued_again_once_its_mark_expired_only_if_rq_lost_it(store, redis_url):
    queue = RedisQueue(redis_url)
    assert queue.enqueue(7) is True
    queue.connection.delete("triage:queued:7")  # the mark expired while the job still waits
    assert queue.enqueue(7) is False and queue.queue.count == 1
    queue.connection.delete("triage:queued:7")
    queue.queue.empty()  # Redis lost the job (flushed), the mark has expired: queue it again
    assert queue.enqueue(7) is True and queue.queue.count == 1
    queue.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_job_takes_other_due_deliveries_and_their_jobs_leave_the_queue(store, tmp_path, redis_url):
    from classifier.ticket import Ticket
    from integrations.inbound import InboundEvent
    from store import inbox

    app = make_app(store, tmp_path, redis_url)
    runtime = app.extensions["triage"]
    with store.session() as session:
        ids = [inbox.record_delivery(session, InboundEvent.ticket_created(
            "zendesk", str(300 + n), Ticket(subject="I need a refund", body=f"order {n}"), None))[0] for n in range(6)]
    for delivery_id in ids:
        assert runtime.queue.enqueue(delivery_id)
    jobs.bind(runtime.pipeline, "rq-test", runtime.queue)
    SimpleWorker([runtime.queue.queue], connection=runtime.queue.connection).work(burst=True, max_jobs=1)
    with store.session() as session:
        assert session.scalars(select(Delivery.state).where(Delivery.id.in_(ids))).all() == [DONE] * 6
    assert runtime.queue.queue.count == 0  # one job ran all six: the other five jobs are gone
    assert not any(runtime.queue.connection.exists(f"triage:queued:{i}") for i in ids)
    assert all(runtime.queue.enqueue(i) for i in ids)  # a later retry could be queued again
    runtime.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mark_whose_job_was_lost_does_not_hold_the_delivery_back(store, redis_url):
    """The mark lives 10 minutes; a job lost meanwhile (Redis restarted without persistence, a flushed
    database) is queued again by the next sweep, not 10 minutes later."""
    queue = RedisQueue(redis_url)
    assert queue.enqueue(8) is True
    assert queue.enqueue(8) is False and queue.queue.count == 1  # its job waits: nothing more is queued
    queue.queue.empty()  # the job is gone, the mark is still there
    assert queue.enqueue(8) is False  # a young mark: its job may be on its way (another sweeper's)
    queue.connection.expire("triage:queued:8", 500)  # the mark is older than the grace
    assert queue.enqueue(8) is True and queue.queue.count == 1
    queue.stop()
