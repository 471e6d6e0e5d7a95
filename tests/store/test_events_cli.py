"""`triage events failed` and `triage events retry`, on both databases."""
from __future__ import annotations

import json

from classifier.ticket import Ticket
from cli.main import main
from integrations.inbound import TICKET_CREATED, InboundEvent
from store import inbox
from store.models import CLASSIFIED, RECEIVED, Delivery


def dead_letter(store, ticket_id: str, step: str) -> int:
    event = InboundEvent(helpdesk="freshdesk", event_type=TICKET_CREATED, ticket_id=ticket_id, ticket=Ticket("s"),
                         idempotency_key=f"freshdesk:ticket.created:{ticket_id}")
    with store.session() as session:
        delivery_id, _ = inbox.record_delivery(session, event)
        inbox.claim(session, delivery_id, "w", 60)
        if step == CLASSIFIED:
            inbox.advance(session, delivery_id, "w", RECEIVED, CLASSIFIED, 60)
        inbox.record_failure(session, delivery_id, "w", "HTTPError: 503", max_attempts=1, base_seconds=1,
                             max_seconds=1)
    return delivery_id


def test_failed_deliveries_are_listed_and_requeued(store, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", store.url)
    first, second = dead_letter(store, "1", RECEIVED), dead_letter(store, "2", CLASSIFIED)

    assert main(["events", "failed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(row["id"], row["step"], row["error"]) for row in listed] == \
        [(first, RECEIVED, "HTTPError: 503"), (second, CLASSIFIED, "HTTPError: 503")]

    assert main(["events", "retry", str(second)]) == 0
    assert capsys.readouterr().out.strip() == f"requeued 1 deliveries: {second}"
    assert main(["events", "retry", str(second)]) == 1  # no longer failed
    assert "not a failed delivery" in capsys.readouterr().err

    assert main(["events", "retry", "--all"]) == 0
    with store.session() as session:
        assert [session.get(Delivery, i).state for i in (first, second)] == [RECEIVED, CLASSIFIED]
    assert main(["events", "failed"]) == 0
    assert capsys.readouterr().out.strip().endswith("no failed deliveries")


def test_a_retry_from_the_shell_is_in_the_audit_trail_under_the_shell_user(store, monkeypatch, capsys):
    import getpass

    from sqlalchemy import select

    from store.models import AuditEntry

    monkeypatch.setenv("DATABASE_URL", store.url)
    delivery = dead_letter(store, "3", CLASSIFIED)
    assert main(["events", "retry", str(delivery)]) == 0
    with store.session() as session:
        [entry] = session.scalars(select(AuditEntry)).all()
        assert (entry.actor, entry.action, entry.target, entry.source) == \
            (f"cli:{getpass.getuser()}", "retry", f"delivery:{delivery}", "cli")
        assert (entry.before, entry.after) == ({"state": "failed"}, {"state": CLASSIFIED})
