"""A ticket that hangs is stopped at the time limit in its child process, counted as a failed attempt and
dead-lettered with the reason, while the tickets behind it keep flowing (webhooks.isolation)."""
from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select

from admin.tables import failed_deliveries
from classifier.ticket import Ticket
from integrations.inbound import InboundEvent
from store import inbox
from store.models import DONE, FAILED, Delivery
from webhook_app import app_settings

REFUND = Ticket(subject="I need a refund", body="I want my money back for order 1234")  # the starter model: sure


@pytest.fixture
def silent_helpdesk():
    """A helpdesk that accepts the connection and never answers: the write-back hangs until stopped."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def record(store, helpdesk: str, ticket_id: str) -> int:
    with store.session() as session:
        delivery_id, _ = inbox.record_delivery(session, InboundEvent.ticket_created(helpdesk, ticket_id, REFUND, None))
    return delivery_id


def wait_for(store, delivery_id: int, state: str, seconds: float) -> Delivery:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery.state == state:
                return delivery
        time.sleep(0.2)
    raise AssertionError(f"delivery {delivery_id} is {delivery.state!r} after {seconds} s, not {state!r}: "
                         f"{delivery.last_error}")


@pytest.mark.timeout(180)
def test_a_hanging_ticket_is_stopped_counted_and_dead_lettered_while_others_flow(store, tmp_path, silent_helpdesk):
    from config.validation import load_settings
    from webhooks.runtime import build_runtime

    settings = load_settings(app_settings(
        store.url, triage_model_dir=tmp_path / "models", zendesk_api_url=silent_helpdesk,
        zendesk_email="agent@example.com", zendesk_api_token="token", triage_ticket_time_limit_seconds=2,
        triage_lease_seconds=20, triage_max_attempts=2, triage_retry_base_seconds=0.1, triage_workers=2),
        env_file=None)
    hanging = record(store, "zendesk", "501")  # routed automatically, then the write-back never returns
    runtime = build_runtime(settings, workers="isolated")
    runtime.queue.start()
    try:
        behind = [record(store, "freshdesk", str(600 + n)) for n in range(5)]  # dry run: nothing hangs
        for delivery_id in behind:
            wait_for(store, delivery_id, DONE, 60)
        failed = wait_for(store, hanging, FAILED, 90)
    finally:
        runtime.close()
    assert failed.attempts == 2
    assert failed.failed_step == "routed"
    assert "longer than 2 s" in failed.last_error
    with store.session() as session:
        assert [d.id for d in inbox.failed(session)] == [hanging]
        (shown,) = failed_deliveries(session)  # the admin page's Failed deliveries table gives the reason
        assert shown["id"] == hanging and "longer than 2 s" in shown["error"]
        assert session.scalar(select(Delivery.state).where(Delivery.id == behind[-1])) == DONE
