"""The store boundary on PostgreSQL: `inbox.record_delivery` takes any event a parser can produce.

Whatever text a helpdesk sends (NUL, lone surrogates, any length, any script), recording never raises,
the rows read back, the ticket id is intact, and text the database can hold is kept exactly.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import example, given, strategies as st
from sqlalchemy import select

from classifier.ticket import Ticket
from fuzz_payloads import SPECIALS, hostile_text, long_text
from fuzz_support import empty_tables, fuzz_settings
from integrations.inbound import InboundEvent
from store import inbox
from store.models import Delivery, TicketRecord

MAX_TAG_CHARS = 100  # classifier/limits.py: a longer tag may be dropped
# column -> its VARCHAR length (store/models.py): longer text may be cut to it, never refused
LIMITS = {"requester": 320, "organization": 255, "tier": 64, "channel": 64, "language": 16, "request_id": 64}
ticket_ids = st.one_of(st.integers(1, 10**20 - 1).map(str), st.just("9" * 20))
labels = st.one_of(st.none(), hostile_text)
moments = st.one_of(st.none(), st.datetimes(timezones=st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)))))


def clean(text: str) -> bool:
    """Text any database and driver can hold as is: no NUL, no lone surrogate."""
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


def assert_kept(name: str, sent: str | None, stored: str | None, limit: int | None = None) -> None:
    if sent is None or not sent.strip():
        return
    assert stored is not None, f"{name}: {sent[:40]!r} sent, nothing stored"
    assert clean(stored), f"{name}: stored {stored[:40]!r} still holds NUL or a lone surrogate"
    if limit is not None:
        assert len(stored) <= limit, f"{name}: {len(stored)} characters stored in a column of {limit}"
    if clean(sent) and (limit is None or len(sent) <= limit):
        assert stored == sent, f"{name}: clean text {sent[:40]!r} stored as {stored[:40]!r}"


@fuzz_settings(150)
@given(ticket_id=ticket_ids, subject=hostile_text, body=st.one_of(hostile_text, long_text),
       requester=labels, organization=labels, tier=labels, channel=labels, language=labels,
       tags=st.lists(hostile_text, max_size=8), created_at=moments, request_id=labels)
@example(ticket_id="1", subject="a\x00b", body="\ud800", requester="r" * 321, organization="o" * 256, tier=None,
         channel="c" * 65, language="\x00" * 17, tags=["\x00", "\udfff", "ok"],
         created_at=datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=5))), request_id="r" * 65)
@example(ticket_id="2", subject="s" * 50_000, body="word" * 250_000, requester=None, organization=None, tier=None,
         channel=None, language=None, tags=list(SPECIALS),
         created_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
         request_id="\ud800")
def test_any_event_is_recorded_and_reads_back(pg_store, ticket_id, subject, body, requester, organization, tier,
                                              channel, language, tags, created_at, request_id):
    empty_tables(pg_store)
    ticket = Ticket(subject=subject, body=body, channel=channel, created_at=created_at, organization=organization,
                    tier=tier, tags=tuple(tags), language=language)
    event = InboundEvent.ticket_created("zendesk", ticket_id, ticket, requester)
    with pg_store.session() as session:
        delivery_id, new = inbox.record_delivery(session, event, request_id=request_id)
    assert new
    with pg_store.session() as session:
        again, new_again = inbox.record_delivery(session, event, request_id=request_id)
    assert (again, new_again) == (delivery_id, False)
    with pg_store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        record = session.get(TicketRecord, delivery.ticket_id)
        assert record.external_id == ticket_id and record.helpdesk == "zendesk"
        assert delivery.idempotency_key == f"zendesk:ticket.created:{ticket_id}"
        assert session.scalar(select(TicketRecord.id).where(TicketRecord.external_id == ticket_id)) == record.id
        assert_kept("subject", subject, record.subject)
        assert_kept("body", body, record.body)
        for name, sent in (("requester", requester), ("organization", organization), ("tier", tier),
                           ("channel", channel), ("language", language)):
            assert_kept(name, sent, getattr(record, name), LIMITS[name])
        assert_kept("request_id", request_id, delivery.request_id, LIMITS["request_id"])
        assert isinstance(record.tags, list) and all(isinstance(t, str) and clean(t) for t in record.tags)
        missing = [t for t in tags if clean(t) and t.strip() and len(t) <= MAX_TAG_CHARS and t not in record.tags]
        assert not missing, f"tags {missing[:3]!r} sent, not stored"
        if created_at is not None:
            assert record.ticket_created_at is not None
