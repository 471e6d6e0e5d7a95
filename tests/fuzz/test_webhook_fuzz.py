"""Hostile deliveries to both webhook receivers on PostgreSQL: every answer is 2xx or a JSON 4xx, never a
5xx; a refused delivery leaves no row, an accepted one leaves its delivery and ticket, ticket id intact."""
from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import event, example, given, strategies as st
from sqlalchemy import select

from fuzz_payloads import bodies_for, ticket_updated_bodies
from fuzz_support import (PLAIN_REQUEST_ID, REFUSED, assert_answer_shape, assert_delivery_outcome,
                          assert_nothing_stored, describe, empty_tables, fuzz_settings, normalised_ticket_id,
                          post_signed)
from helpdesk_signing import zendesk_signed_headers
from store.models import Correction, Delivery, TicketRecord
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CREATED = {name: sorted((FIXTURES / name).glob("ticket_created*.json")) for name in ("zendesk", "freshdesk")}
TOLERANCE_SECONDS = 300


@pytest.fixture(scope="module")
def client(pg_app):
    return pg_app.test_client()


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@fuzz_settings(150)
@given(data=st.data())
def test_a_signed_hostile_body_is_stored_whole_or_refused_cleanly(client, pg_store, helpdesk, data):
    payload, raw_id, subject = data.draw(bodies_for(helpdesk), label="body")
    empty_tables(pg_store)
    response = post_signed(client, helpdesk, payload.raw)
    assert_delivery_outcome(pg_store, helpdesk, response, normalised_ticket_id(raw_id), subject)


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@fuzz_settings(40)
@given(data=st.data())
def test_a_hostile_ticket_update_answers_200_or_a_json_4xx(client, pg_store, helpdesk, data):
    """An agent's re-routing for a ticket we hold: a correction or nothing, never a 5xx or half a write."""
    payload = data.draw(ticket_updated_bodies(helpdesk), label="update")
    empty_tables(pg_store)
    created = post_signed(client, helpdesk, json.dumps({"ticket_id": "777", "subject": "Refund please",
                                                        "description": "Money back"}).encode())
    assert created.status_code == 202, describe(created)
    response = post_signed(client, helpdesk, payload.raw)
    assert_answer_shape(response, REFUSED | {200})
    with pg_store.session() as session:
        ticket = session.scalar(select(TicketRecord))
        label, found = ticket.label, session.scalar(select(Correction))
    recorded = response.status_code == 200 and response.get_json().get("correction") is True
    event(f"correction recorded: {recorded}")
    if not recorded:
        assert found is None and label is None, f"a correction recorded for {describe(response)}"
    else:
        assert found is not None and found.to_category and label == found.to_category


def mutations():
    """Bytes that are not the JSON object a helpdesk sends: garbage, bad UTF-8, cut or spliced fixtures."""
    fixtures = [path.read_bytes() for paths in CREATED.values() for path in paths]
    fixture = st.sampled_from(fixtures)
    return st.one_of(
        st.binary(max_size=400),
        fixture.flatmap(lambda raw: st.integers(0, len(raw) - 1).map(lambda cut: raw[:cut])),  # truncated JSON
        fixture.flatmap(lambda raw: st.tuples(st.integers(0, len(raw)), st.binary(min_size=1, max_size=8)).map(
            lambda spot: raw[:spot[0]] + spot[1] + raw[spot[0]:])),  # bytes spliced in
        fixture.map(lambda raw: raw.replace(b'"', b"'", 3)),
        fixture.map(lambda raw: b"\xef\xbb\xbf" + raw),  # a UTF-8 byte order mark
        fixture.map(lambda raw: raw.decode().encode("utf-16")),
        fixture.map(lambda raw: raw.replace(b"a", b"\xc3\x28", 1)),  # invalid UTF-8 inside a string
        st.sampled_from([b"", b"null", b"0", b"[]", b"\"x\"", b"{}", b"{" * 5000, b"[" * 100_000, b"NaN",
                         b'{"ticket_id": 1e999}', b'{"ticket_id": ' + b"9" * 5000 + b"}",
                         b'{"ticket_id": "1", "ticket_id": {"a": 1}}', b'{"ticket_id": "\\ud800"}',
                         b'{"ticket_id": "1", "subject": "\\u0000"}', b"\x00" * 64]),
    )


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@fuzz_settings(60)
@given(raw=mutations())
def test_signed_raw_bytes_never_get_a_5xx(client, pg_store, helpdesk, raw):
    empty_tables(pg_store)
    response = post_signed(client, helpdesk, raw)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        payload = None
    assert_delivery_outcome(pg_store, helpdesk, response, normalised_ticket_id(sent_ticket_id(helpdesk, payload)))


def sent_ticket_id(helpdesk: str, payload: object) -> object:
    """Where the documented shapes put the ticket id (None where we cannot tell: any stored id then passes)."""
    if not isinstance(payload, dict):
        return None
    if helpdesk == "freshdesk":
        inner = payload.get("freshdesk_webhook", payload)
        return inner.get("ticket_id") if isinstance(inner, dict) else None
    kind = payload.get("type")
    if isinstance(kind, str) and kind.startswith("zen:event-type:"):
        detail = payload.get("detail")
        return detail.get("id") if isinstance(detail, dict) else None
    return payload.get("ticket_id")


def plausible_zendesk_time(stamp: str) -> bool:
    """Could verification accept this timestamp (an ISO time within the tolerance of now)?"""
    try:
        moment = datetime.fromisoformat(stamp.strip())
    except (ValueError, OverflowError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return abs(time.time() - moment.timestamp()) <= TOLERANCE_SECONDS + 5
    except (OverflowError, ValueError):
        return False


header_text = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=100, max_size=2000),
    st.sampled_from(["", " ", "\t", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "+275760-09-13T00:00:00Z",
                     "1700000000", "1e308", "NaN", "2021-13-45T99:99:99Z", "now", "9" * 400]),
)


@fuzz_settings(80)
@given(timestamp=header_text, signature=st.one_of(header_text, st.binary(max_size=40).map(
    lambda b: base64.b64encode(b).decode()), st.just(None)))
def test_zendesk_junk_signature_headers_get_401_and_store_nothing(client, pg_store, timestamp, signature):
    """`signature` None: a correct HMAC over the junk timestamp, so only the timestamp is wrong."""
    body = (FIXTURES / "zendesk" / "ticket_created__trigger.json").read_bytes()
    headers = zendesk_signed_headers(ZENDESK_SECRET, body, timestamp=timestamp)
    if signature is not None:
        headers["X-Zendesk-Webhook-Signature"] = signature
    empty_tables(pg_store)
    response = client.post("/webhooks/zendesk", data=body, headers={"Content-Type": "application/json", **headers})
    if signature is None and plausible_zendesk_time(timestamp):
        assert_delivery_outcome(pg_store, "zendesk", response, "35436")
        return
    assert_answer_shape(response, {401})
    assert_nothing_stored(pg_store, response)


@fuzz_settings(40)
@given(secret=st.one_of(header_text, st.builds(lambda pad, junk: pad + FRESHDESK_SECRET + junk, st.sampled_from(
    ["", " ", "\t"]), st.sampled_from(["", "x", " ", "\x85"]))))
def test_freshdesk_junk_secret_header_gets_401_and_stores_nothing(client, pg_store, secret):
    body = (FIXTURES / "freshdesk" / "ticket_created__custom.json").read_bytes()
    empty_tables(pg_store)
    response = client.post("/webhooks/freshdesk", data=body,
                           headers={"Content-Type": "application/json", "X-Webhook-Secret": secret})
    if secret.strip() == FRESHDESK_SECRET:
        assert_delivery_outcome(pg_store, "freshdesk", response, "4021")
        return
    assert_answer_shape(response, {401})
    assert_nothing_stored(pg_store, response)


request_ids = st.one_of(header_text, st.uuids().map(str), st.text("abcdef0123456789-", min_size=1, max_size=64),
                        st.integers(65, 5000).map(lambda n: "r" * n))


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@fuzz_settings(40)
@given(request_id=request_ids)
@example(request_id="r" * 65)
@example(request_id="'; DROP TABLE deliveries; --")
def test_any_request_id_is_accepted_and_stored_within_its_column(client, pg_store, helpdesk, request_id):
    """A valid delivery with a junk X-Request-Id is still accepted; what is stored and echoed is a safe id."""
    body = CREATED[helpdesk][0].read_bytes()
    empty_tables(pg_store)
    response = post_signed(client, helpdesk, body, headers={"X-Request-Id": request_id})
    assert_answer_shape(response, {202})
    assert_delivery_outcome(pg_store, helpdesk, response)
    if PLAIN_REQUEST_ID.fullmatch(request_id):
        with pg_store.session() as session:
            assert session.scalar(select(Delivery.request_id)) == request_id
