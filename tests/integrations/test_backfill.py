"""History import: pages through the fake helpdesks, stores labelled examples, resumes from its cursor."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from fake_freshdesk import STATUS_CLOSED, STATUS_RESOLVED
from integrations.backfill import run_backfill
from integrations.circuit import CircuitOpen
from integrations.errors import Unavailable
from integrations.labels import LabelSource, LabelSourceError
from store.models import BackfillCursor, TicketRecord
from store.training_examples import labelled_examples, labelled_frame

SINCE = datetime(2023, 1, 1, tzinfo=timezone.utc)


def zendesk_history(fake, n=7):
    for i in range(1, n + 1):
        fake.add_ticket(i, subject=f"subject {i}", description=f"body {i}", status="solved" if i != 4 else "open",
                        group_id=100 if i % 2 else 200, tags=[f"cat_{'refund' if i % 2 else 'shipping'}"],
                        custom_fields=[{"id": 555, "value": "refund" if i % 2 else "billing"}])


def labels(store):
    with store.session() as session:
        return {int(r.external_id): r.label for r in session.scalars(select(TicketRecord))}


def test_zendesk_backfill_labels_by_group_and_resumes_where_it_stopped(store, zendesk, fake_zendesk):
    zendesk_history(fake_zendesk)  # 7 tickets, 2 a page: 4 pages; ticket 4 is open
    first = run_backfill(zendesk, store, SINCE, LabelSource.parse("group"), max_pages=2)
    assert (first.pages, first.finished) == (2, False) and labels(store) == {1: "Billing", 2: "Shipping", 3: "Billing"}
    exports = len(fake_zendesk.calls("GET", "/api/v2/incremental/"))
    second = run_backfill(zendesk, store, SINCE, LabelSource.parse("group"))
    calls = fake_zendesk.calls("GET", "/api/v2/incremental/")[exports:]
    assert "cursor" in calls[0].query and "start_time" not in calls[0].query  # resumed, not restarted
    assert second.finished and second.pages == 2
    assert labels(store) == {1: "Billing", 2: "Shipping", 3: "Billing", 5: "Billing", 6: "Shipping", 7: "Billing"}
    with store.session() as session:
        cursor = session.scalar(select(BackfillCursor))
        assert (cursor.pages, cursor.seen, cursor.stored) == (4, 6, 6) and cursor.finished_at is not None
        assert session.scalar(select(func.count()).select_from(TicketRecord)) == 6


def test_label_from_field_and_tag_prefix(store, zendesk, fake_zendesk):
    zendesk_history(fake_zendesk, 3)
    run_backfill(zendesk, store, SINCE, LabelSource.parse("field:Category"))
    assert labels(store) == {1: "refund", 2: "billing", 3: "refund"}
    run_backfill(zendesk, store, SINCE, LabelSource.parse("tag-prefix:cat_"))
    assert labels(store) == {1: "refund", 2: "shipping", 3: "refund"}
    with pytest.raises(LabelSourceError):
        run_backfill(zendesk, store, SINCE, LabelSource.parse("field:Nope"))


def test_a_rate_limit_is_waited_out_and_an_outage_retried(store, zendesk, fake_zendesk):
    zendesk_history(fake_zendesk, 3)
    fake_zendesk.fail(429, count=1, path_prefix="/api/v2/incremental/", retry_after="7")
    fake_zendesk.fail(503, count=2, path_prefix="/api/v2/incremental/")
    slept = []
    report = run_backfill(zendesk, store, SINCE, LabelSource.parse("group"), sleep=slept.append)
    assert report.finished and slept[0] == 7 and len(labels(store)) == 3


def test_a_long_outage_stops_the_backfill_with_the_cursor_kept(store, zendesk, fake_zendesk):
    zendesk_history(fake_zendesk, 5)
    run_backfill(zendesk, store, SINCE, LabelSource.parse("group"), max_pages=1)
    fake_zendesk.fail(503, count=100, path_prefix="/api/v2/incremental/")
    with pytest.raises((Unavailable, CircuitOpen)):
        run_backfill(zendesk, store, SINCE, LabelSource.parse("group"), sleep=lambda s: None)
    with store.session() as session:
        assert session.scalar(select(BackfillCursor.pages)) == 1 and session.scalar(select(BackfillCursor.cursor))


def test_freshdesk_backfill_and_the_training_examples(store, freshdesk, fake_freshdesk):
    fake_freshdesk.per_page_max = 2
    for n in range(1, 6):
        fake_freshdesk.add_ticket(n, subject=f"s{n}", description=f"b{n}", status=STATUS_RESOLVED if n < 5 else 2,
                                  custom_fields={"cf_category": "Refund" if n % 2 else "Billing"})
    fake_freshdesk.add_ticket(9, status=STATUS_CLOSED, custom_fields={"cf_category": None})  # no label: skipped
    report = run_backfill(freshdesk, store, SINCE, LabelSource.parse("field:cf_category"))
    assert report.finished and report.stored == 4 and report.seen == 5
    with store.session() as session:
        examples = labelled_examples(session)
        frame = labelled_frame(session, helpdesk="freshdesk")
    assert [(t.subject, t.body, label) for t, label in examples] == [
        ("s1", "b1", "Refund"), ("s2", "b2", "Billing"), ("s3", "b3", "Refund"), ("s4", "b4", "Billing")]
    assert list(frame.columns[:2]) == ["text", "subject"] and frame["text"][0] == "s1\nb1"


def test_a_correction_is_not_overwritten_by_the_history_label(store, zendesk, fake_zendesk):
    zendesk_history(fake_zendesk, 1)
    with store.session() as session:
        session.add(TicketRecord(helpdesk="zendesk", external_id="1", label="Shipping", label_source="slack", tags=[]))
    run_backfill(zendesk, store, SINCE, LabelSource.parse("group"))
    assert labels(store) == {1: "Shipping"}


def test_the_backfill_command_prints_its_summary(store, fake_zendesk, monkeypatch, capsys):
    from cli import helpdesk_commands
    from fake_zendesk import EMAIL, TOKEN

    zendesk_history(fake_zendesk, 3)
    for name, value in {"DATABASE_URL": store.url, "ZENDESK_API_URL": fake_zendesk.url, "ZENDESK_EMAIL": EMAIL,
                        "ZENDESK_API_TOKEN": TOKEN, "ZENDESK_WEBHOOK_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    parser = argparse.ArgumentParser()
    helpdesk_commands.register(parser.add_subparsers())
    args = parser.parse_args(["backfill", "--helpdesk", "zendesk", "--since", "2023-01-01", "--label-from", "group"])
    assert args.handler(args) == 0
    out = capsys.readouterr()
    assert "3 solved/closed tickets read, 3 labelled and stored; done" in out.out and "tickets" in out.err
    bad = parser.parse_args(["backfill", "--helpdesk", "zendesk", "--since", "2023-01-01", "--label-from", "color"])
    assert bad.handler(bad) == 2


def test_training_from_the_store_sees_the_sender_domain_the_pipeline_sees(store):
    """One mapping from stored ticket to Ticket: `train --from-store` used to drop the requester's domain."""
    from store.ticket_records import ticket_from_record

    with store.session() as session:
        session.add(TicketRecord(helpdesk="zendesk", external_id="77", subject="Printer jammed", body="Tray 2",
                                 requester="Jane <jane@Acme.com>", label="Hardware", label_source="backfill", tags=[]))
    with store.session() as session:
        (ticket, label), = labelled_examples(session)
        record = session.scalars(select(TicketRecord)).one()
        assert ticket.sender_domain == "acme.com" and ticket == ticket_from_record(record) and label == "Hardware"
