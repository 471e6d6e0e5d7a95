"""Dates at the two boundaries: the parser drops creation times no helpdesk can mean, and the store's
datetime column takes any aware datetime without raising, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select

from integrations.payload_fields import optional_datetime
from store.models import TicketRecord
from store.types import UTCDateTime

OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))
AWARE = st.datetimes(timezones=OFFSETS)


@pytest.mark.parametrize("text", [
    "9999-12-31T23:00:00-05:00",  # overflows when moved to UTC
    "0001-01-01T00:00:00+05:00",  # underflows when moved to UTC
    "9999-12-31T23:59:59.999999-23:59",
    "0001-01-01", "1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "2200-12-31T23:00:00-05:00",
    "December 31, 9999", "Mon, 01 Jan, 0001 at 12:00 AM",
    "2024-04-17T17:18Z" + " " * 100 + "x", "2024\ud800-01-01", "\x00",
])
def test_a_date_that_cannot_be_meant_is_absent(text):
    assert optional_datetime({"created_at": text}, "created_at") is None


@pytest.mark.parametrize("text, utc", [
    ("2024-04-17T17:18Z", "2024-04-17T17:18:00+00:00"),
    ("2024-04-17T17:18:00-05:00", "2024-04-17T22:18:00+00:00"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00"),
    ("2200-12-31T23:59:59+01:00", "2200-12-31T22:59:59+00:00"),
    ("May 18, 2014", "2014-05-18T00:00:00+00:00"),
])
def test_a_sane_date_is_kept(text, utc):
    assert optional_datetime({"created_at": text}, "created_at").astimezone(timezone.utc).isoformat() == utc


@given(AWARE)
def test_the_datetime_column_never_raises_on_an_aware_datetime(moment):
    stored = UTCDateTime().process_bind_param(moment, None)
    assert stored.tzinfo is None
    try:
        assert stored == moment.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        assert stored in (datetime.min, datetime.max)


def test_the_datetime_column_still_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2024, 1, 1), None)


@pytest.mark.parametrize("moment, kept", [
    (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), datetime.max),
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), datetime.min),
    (datetime(2024, 4, 17, 17, 18, tzinfo=timezone(timedelta(hours=-5))), datetime(2024, 4, 17, 22, 18)),
])
def test_an_out_of_range_instant_is_stored_as_the_nearest_one_on_both_databases(store, moment, kept):
    with store.session() as session:
        session.add(TicketRecord(helpdesk="zendesk", external_id="1", ticket_created_at=moment))
    with store.session() as session:
        assert session.scalar(select(TicketRecord.ticket_created_at)) == kept.replace(tzinfo=timezone.utc)
