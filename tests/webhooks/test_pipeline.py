"""The pipeline with the real bundled model: classify, decide, write back or send to review, recover."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from classifier.ticket import Ticket
from integrations.errors import Unavailable
from integrations.inbound import TICKET_CREATED, InboundEvent
from store import inbox
from store.models import DONE, FAILED, Delivery, PredictionRecord, ReviewMessage, WriteBack
from store.types import utcnow
from webhooks.decision import AUTO, REVIEW


def deliver(runtime, ticket_id: str, subject: str, body: str = "", needs_fetch: bool = False) -> int:
    event = InboundEvent(helpdesk="zendesk", event_type=TICKET_CREATED, ticket_id=ticket_id,
                         ticket=Ticket(subject=subject, body=body), needs_fetch=needs_fetch,
                         idempotency_key=f"zendesk:ticket.created:{ticket_id}")
    with runtime.store.session() as session:
        return inbox.record_delivery(session, event)[0]


@pytest.fixture
def runtime(app):
    return app.extensions["triage"]


CONFIDENT = "I want a refund for my order, please give me my money back, how do I get a refund"


def test_a_confident_ticket_is_classified_and_routed_with_its_tag(runtime):
    delivery_id = deliver(runtime, "1", CONFIDENT)
    assert runtime.pipeline.process(delivery_id, "w1") == DONE
    with runtime.store.session() as session:
        prediction = session.scalar(select(PredictionRecord))
        write_back = session.scalar(select(WriteBack))
        assert prediction.category == "REFUNDS"
        assert prediction.decision == AUTO and prediction.confidence >= prediction.threshold == 0.8
        assert write_back.state == "done" and write_back.dry_run
        assert write_back.route["tags"] == ["triage_refunds", "billing"]
        assert write_back.result["would_write"]["category"] == "REFUNDS"
        assert session.get(Delivery, delivery_id).finished_at is not None


def test_an_always_review_category_goes_to_the_review_queue(runtime):
    delivery_id = deliver(runtime, "2", "I want to leave feedback about your great service, I want to give a review")
    assert runtime.pipeline.process(delivery_id, "w1") == DONE
    with runtime.store.session() as session:
        prediction = session.scalar(select(PredictionRecord))
        assert (prediction.category, prediction.decision) == ("FEEDBACK", REVIEW)
        message = session.scalar(select(ReviewMessage))
        assert (message.state, message.channel) == ("open", None)
        assert session.scalar(select(func.count()).select_from(WriteBack)) == 0


def test_a_ticket_in_words_the_model_never_saw_goes_to_review_however_confident(runtime):
    delivery_id = deliver(runtime, "7", "The VPN does not connect since this morning")
    runtime.pipeline.process(delivery_id, "w1")
    with runtime.store.session() as session:
        prediction = session.scalar(select(PredictionRecord))
        assert prediction.derived["vocabulary_coverage"] < 0.5
        assert prediction.confidence >= prediction.threshold  # confident: only the coverage rule sends it
        assert prediction.decision == REVIEW


def test_an_unsure_ticket_goes_to_review(runtime):
    delivery_id = deliver(runtime, "3", "hello")
    runtime.pipeline.process(delivery_id, "w1")
    with runtime.store.session() as session:
        prediction = session.scalar(select(PredictionRecord))
        assert prediction.decision == REVIEW and prediction.confidence < prediction.threshold


def test_the_starter_model_stores_no_threshold_so_0_7_decides(runtime):
    delivery_id = deliver(runtime, "30", "where is my package, I want to track my delivery, it has not arrived")
    runtime.pipeline.process(delivery_id, "w1")
    with runtime.store.session() as session:
        prediction = session.scalar(select(PredictionRecord))
        assert prediction.category not in ("REFUNDS", "FEEDBACK") and prediction.threshold == 0.7
        assert prediction.decision == (AUTO if prediction.confidence >= 0.7 else REVIEW)


def test_a_model_with_a_stored_threshold_routes_by_it_unless_the_routing_file_names_one(runtime, monkeypatch):
    model = runtime.models.get()
    monkeypatch.setattr(model, "selective_", {"target_precision": 0.95, "threshold": 0.05, "per_category": {}},
                        raising=False)
    first, second = deliver(runtime, "31", "hello there"), deliver(runtime, "32", CONFIDENT)
    runtime.pipeline.process(first, "w1")
    runtime.pipeline.process(second, "w1")
    with runtime.store.session() as session:
        by_delivery = {p.delivery_id: p for p in session.scalars(select(PredictionRecord))}
    assert by_delivery[first].threshold == 0.05 and by_delivery[first].decision in (AUTO, REVIEW)
    assert by_delivery[second].category == "REFUNDS" and by_delivery[second].threshold == 0.8


def test_a_delivery_held_by_another_worker_is_left_alone(runtime):
    delivery_id = deliver(runtime, "4", CONFIDENT)
    with runtime.store.session() as session:
        assert inbox.claim(session, delivery_id, "other", 60)
    assert runtime.pipeline.process(delivery_id, "w1") == "not_claimed"
    with runtime.store.session() as session:
        assert session.scalar(select(func.count()).select_from(PredictionRecord)) == 0


class FlakyHelpdesk:
    """Fails its first `failures` calls with `error` (by default one that is not an outage)."""

    key, dry_run = "zendesk", False

    def __init__(self, failures: int, error: Exception | None = None):
        self.failures, self.calls = failures, []
        self.error = error or ValueError("helpdesk answered something we cannot read")

    def fetch_ticket(self, external_id):
        raise AssertionError("not asked for")

    def apply(self, external_id, route):
        self.calls.append((external_id, route.category))
        if len(self.calls) <= self.failures:
            raise self.error
        return {"updated": external_id}


def test_a_failing_write_back_is_retried_from_its_step_then_dead_lettered(runtime):
    from sqlalchemy import update

    helpdesk = FlakyHelpdesk(failures=99)
    runtime.pipeline.helpdesks["zendesk"] = helpdesk
    delivery_id = deliver(runtime, "5", CONFIDENT)
    states = []
    for _ in range(runtime.settings.triage_max_attempts):
        with runtime.store.session() as session:
            session.execute(update(Delivery).values(next_attempt_at=Delivery.received_at))
        states.append(runtime.pipeline.process(delivery_id, "w1"))
    assert states[-1] == FAILED and set(states[:-1]) == {"routed"}
    with runtime.store.session() as session:
        assert session.scalar(select(func.count()).select_from(PredictionRecord)) == 1  # classified once
        delivery = session.get(Delivery, delivery_id)
        assert "ValueError: helpdesk answered something we cannot read" in delivery.last_error
        assert inbox.retry(session, [delivery_id]) == [delivery_id]
    helpdesk.failures = 0
    assert runtime.pipeline.process(delivery_id, "w1") == DONE
    assert len(helpdesk.calls) == runtime.settings.triage_max_attempts + 1
    with runtime.store.session() as session:
        assert session.scalar(select(WriteBack.result)) == {"updated": "5"}


@pytest.mark.parametrize("error", [ConnectionError("helpdesk unreachable"), TimeoutError("read timed out"),
                                   Unavailable("zendesk", "HTTP 503: maintenance", 503)],
                         ids=["connection", "timeout", "http-503"])
def test_a_helpdesk_outage_defers_the_write_back_without_spending_attempts(runtime, error):
    from sqlalchemy import update

    helpdesk = FlakyHelpdesk(failures=runtime.settings.triage_max_attempts * 2, error=error)
    runtime.pipeline.helpdesks["zendesk"] = helpdesk
    delivery_id = deliver(runtime, "15", CONFIDENT)
    for _ in range(runtime.settings.triage_max_attempts * 2):  # twice as many outages as attempts allowed
        with runtime.store.session() as session:
            session.execute(update(Delivery).values(next_attempt_at=Delivery.received_at))
        assert runtime.pipeline.process(delivery_id, "w1") == "routed"
        with runtime.store.session() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery.attempts == 0 and delivery.state == "routed"
            assert delivery.last_error.startswith("outage: ")
            assert delivery.next_attempt_at > utcnow()  # deferred, not due at once
    with runtime.store.session() as session:
        session.execute(update(Delivery).values(next_attempt_at=Delivery.received_at))
    assert runtime.pipeline.process(delivery_id, "w1") == DONE  # the helpdesk is back


def test_a_ticket_without_text_is_still_classified_in_dry_run(runtime):
    delivery_id = deliver(runtime, "6", "", needs_fetch=True)
    assert runtime.pipeline.process(delivery_id, "w1") == DONE
    with runtime.store.session() as session:
        assert session.scalar(select(PredictionRecord.decision)) == REVIEW
