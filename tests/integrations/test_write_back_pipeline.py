"""The pipeline's write-back step with the real Zendesk adapter: rate limits defer without spending
attempts, permanent errors dead-letter at once, and nothing is lost or applied twice across an outage."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk_settings import helpdesk_settings
from integrations.circuit import CircuitBreaker
from integrations.route import Route
from routed_deliveries import make_due, routed_delivery, write_back_pipeline
from store.models import DONE, FAILED, ROUTED, Delivery, WriteBack
from store.types import utcnow

ROUTE = Route(category="Refund", tags=["triage_refund"], group=100, note="triage: category Refund")


@pytest.fixture
def breaker():
    return CircuitBreaker("zendesk", threshold=3, cooldown=0.3)


@pytest.fixture
def pipeline(store, fake_zendesk, breaker):
    from integrations.zendesk.adapter import ZendeskAdapter
    from integrations.zendesk.client import build_zenpy

    adapter = ZendeskAdapter(build_zenpy(helpdesk_settings(store, zendesk=fake_zendesk), store, breaker=breaker))
    return write_back_pipeline(store, {"zendesk": adapter})


def test_a_429_defers_the_delivery_past_retry_after_without_spending_an_attempt(store, fake_zendesk, pipeline):
    fake_zendesk.add_ticket(1)
    delivery_id = routed_delivery(store, "zendesk", "1", ROUTE)
    fake_zendesk.fail(429, method="PUT", retry_after="120")
    before = utcnow()
    assert pipeline.process(delivery_id, "w1") == ROUTED
    with store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery.attempts == 0 and "RateLimited" in delivery.last_error
        assert delivery.next_attempt_at >= before + timedelta(seconds=120)
    assert pipeline.process(delivery_id, "w1") == "not_claimed"  # not due yet
    make_due(store)
    assert pipeline.process(delivery_id, "w1") == DONE
    assert fake_zendesk.applied == {1: 1}


def test_a_permanent_error_dead_letters_at_once_with_a_clear_error(store, fake_zendesk, pipeline):
    delivery_id = routed_delivery(store, "zendesk", "404", ROUTE)  # no such ticket in Zendesk
    assert pipeline.process(delivery_id, "w1") == FAILED
    with store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery.attempts == 1 and delivery.failed_step == ROUTED
        assert delivery.last_error.startswith("permanent: NotFound: zendesk: HTTP 404")


def test_nothing_is_lost_or_applied_twice_across_an_outage(store, fake_zendesk, pipeline, breaker):
    import time

    ids = {n: routed_delivery(store, "zendesk", str(n), ROUTE) for n in range(1, 7)}
    for n in ids:
        fake_zendesk.add_ticket(n)
    fake_zendesk.fail(503, count=1000)  # the outage: every call fails
    states = [pipeline.process(ids[n], "w1") for n in ids]
    assert states == [ROUTED] * 6 and breaker.state == "open"
    before_open = len(fake_zendesk.requests)
    with store.session() as session:
        attempts = [session.get(Delivery, ids[n]).attempts for n in ids]
    assert attempts == [0] * 6  # an outage is not the tickets' fault: all deferred, none spent an attempt
    with store.session() as session:
        errors = [session.get(Delivery, ids[n]).last_error for n in ids]
    assert all(error.startswith("outage: Unavailable") for error in errors[:3])  # three real failures ...
    assert all("CircuitOpen" in error for error in errors[3:])  # ... opened the breaker; the rest never left
    assert before_open == 3  # an open breaker sends nothing
    fake_zendesk.scripted.clear()  # the outage ends
    time.sleep(0.35)
    make_due(store)
    assert [pipeline.process(ids[n], "w1") for n in ids] == [DONE] * 6
    assert fake_zendesk.calls("GET", "/api/v2/users/me.json")  # the breaker probed before closing
    assert fake_zendesk.applied == {n: 1 for n in ids}
    assert all(len(fake_zendesk.comments[n]) == 1 for n in ids)
    with store.session() as session:
        assert {w.state for w in session.scalars(select(WriteBack))} == {"done"}
