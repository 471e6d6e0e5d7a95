"""The store takes any text a helpdesk can send, and keeps the same row on SQLite and PostgreSQL.

The normalisation, done by the column types (`store.types`, `store.clean_text`) on every write: NUL removed,
each lone surrogate replaced by U+FFFD, then a VARCHAR(n) value cut to n code points. TEXT and JSON
strings (dict keys too) are cleaned but never cut. Valid astral characters (emoji) are kept as they are.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from classifier.ticket import Ticket
from integrations.inbound import InboundEvent
from store import inbox
from store.clean_text import clean_json, clean_text
from store.models import Delivery, TicketRecord, WriteBack

HIGH, LOW = "\ud800", "\udfff"  # lone surrogates, as JSON's "\ud800" decodes
ASTRAL = "🔥 👩‍👩‍👧 𝔘𝔫𝔦 🀄 😀"  # code points above U+FFFF, which must come back unchanged
ANY_CODE_POINT = st.characters(min_codepoint=0, max_codepoint=0x10FFFF)  # surrogates and NUL included


def is_clean(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


@settings(max_examples=500)
@given(st.text(alphabet=ANY_CODE_POINT), st.one_of(st.none(), st.integers(min_value=0, max_value=40)))
def test_cleaned_text_always_encodes_has_no_nul_and_fits_its_cap(text, cap):
    cleaned = clean_text(text, cap)
    cleaned.encode("utf-8")  # raises on a lone surrogate
    assert "\x00" not in cleaned
    assert cap is None or len(cleaned) <= cap
    assert clean_text(cleaned, cap) == cleaned
    if is_clean(text) and (cap is None or len(text) <= cap):
        assert cleaned == text


@given(st.text(alphabet=ANY_CODE_POINT), st.integers(min_value=0, max_value=40))
def test_a_cut_keeps_the_head_of_the_cleaned_text(text, cap):
    assert clean_text(text, cap) == clean_text(text)[:cap]


def test_the_documented_normalisation():
    assert clean_text(f"a\x00b{HIGH}c{LOW}{LOW}{HIGH}d") == "ab\ufffdc\ufffd\ufffd\ufffdd"
    assert clean_text(ASTRAL + "\x00") == ASTRAL
    assert clean_text("🔥" * 10, 3) == "🔥🔥🔥"  # code points, never half a character
    assert clean_text("\x00" * 5 + "abc", 2) == "ab"  # NUL removed before the cut, so it costs no room


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(alphabet=ANY_CODE_POINT),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet=ANY_CODE_POINT), inner, max_size=4),
    max_leaves=20,
)


def strings_in(value) -> list[str]:
    found, pending = [], [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


@given(JSON_VALUES)
def test_every_string_in_a_json_value_is_cleaned_and_the_input_is_not_touched(value):
    before = repr(value)
    cleaned = clean_json(value)
    assert all(is_clean(text) for text in strings_in(cleaned))
    assert repr(value) == before
    if all(is_clean(text) for text in strings_in(value)):
        assert cleaned == value


def test_json_nested_deeper_than_the_recursion_limit_is_cleaned():
    deep: list = ["a\x00"]
    for _ in range(50_000):
        deep = [deep]
    cleaned = clean_json(deep)
    for _ in range(50_000):
        cleaned = cleaned[0]
    assert cleaned == ["a"]


def hostile_event(ticket_id: str = "4242") -> InboundEvent:
    ticket = Ticket(subject=f"Printer\x00 on fire {HIGH} {LOW} {ASTRAL}", body=f"It smokes\x00{LOW}{HIGH} {ASTRAL}",
                    organization="Acme\x00" + LOW + "o" * 10_000, channel=HIGH + "w" * 5_000,
                    tier="\x00gold" + LOW, language="en\x00" + HIGH, tags=("vip\x00", "🔥hot", HIGH + "odd", LOW))
    return InboundEvent.ticket_created("zendesk", ticket_id, ticket, requester=LOW + "r" * 10_000)


EXPECTED = {
    "subject": f"Printer on fire \ufffd \ufffd {ASTRAL}",
    "body": f"It smokes\ufffd\ufffd {ASTRAL}",
    "organization": "Acme\ufffd" + "o" * 250,  # VARCHAR(255)
    "channel": "\ufffd" + "w" * 63,  # VARCHAR(64)
    "requester": "\ufffd" + "r" * 319,  # VARCHAR(320)
    "tier": "gold\ufffd",
    "language": "en\ufffd",
    "tags": ["vip", "🔥hot", "\ufffdodd", "\ufffd"],
}


def stored_ticket(session) -> dict:
    ticket = session.scalar(select(TicketRecord))
    return {name: getattr(ticket, name) for name in EXPECTED}


def test_a_hostile_delivery_is_stored_with_the_documented_normalisation(store):
    with store.session() as session:
        delivery_id, created = inbox.record_delivery(session, hostile_event(), request_id="req\x00" + HIGH)
    assert created
    with store.session() as session:
        assert stored_ticket(session) == EXPECTED
        assert session.get(Delivery, delivery_id).request_id == "req\ufffd"


def test_the_same_hostile_delivery_again_is_a_duplicate(store):
    with store.session() as session:
        first, _ = inbox.record_delivery(session, hostile_event())
    with store.session() as session:
        assert inbox.record_delivery(session, hostile_event()) == (first, False)


@pytest.mark.parametrize("route", [
    {"note": "a\x00b" + HIGH, "tags": ["x\x00", LOW], "k\x00" + HIGH: {"deep": [["\x00"]]}},
    {"category": ASTRAL, "nested": {"list": [1, 2.5, None, True, "ok"]}},
])
def test_json_columns_store_cleaned_strings_keys_included(store, route):
    with store.session() as session:
        delivery_id, _ = inbox.record_delivery(session, hostile_event())
        ticket_id = session.get(Delivery, delivery_id).ticket_id
        session.add(WriteBack(delivery_id=delivery_id, ticket_id=ticket_id, helpdesk="zendesk", route=route,
                              result=None))
    with store.session() as session:
        stored = session.scalar(select(WriteBack))
        assert stored.route == clean_json(route)
        assert stored.result is None
    if "note" in route:
        assert clean_json(route) == {"note": "ab\ufffd", "tags": ["x", "\ufffd"], "k\ufffd": {"deep": [[""]]}}


@pytest.mark.timeout(20)
@pytest.mark.parametrize("unit", ["\x00", HIGH, LOW + HIGH, "🔥", "a\x00" + LOW, "plain text "])
def test_cleaning_a_megabyte_finishes(unit):
    """A hang guard, not a benchmark: linear cleaning takes milliseconds here, quadratic would take minutes."""
    text = unit * (1_000_000 // len(unit))
    assert len(clean_text(text, 255)) <= 255
    assert len(clean_json({text: [text, {"k": text}]})) == 1
