"""With REDIS_URL the receiver queues delivery ids on RQ (real Redis) and workers run the pipeline."""
from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

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
