"""The caller's `X-Request-Id` (issue 12): kept only when it is a short, plain token; anything else is
replaced by an id of our own, in the stored delivery and in the response header alike. On SQLite and
PostgreSQL (`make_app`), where PostgreSQL refused ids over 64 characters with a 500.
"""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from helpdesk_signing import zendesk_signed_headers
from store.models import Delivery
from webhook_app import ZENDESK_SECRET

OUR_OWN = re.compile(r"[0-9a-f]{32}")


def deliver(app, request_id: str | None):
    body = json.dumps({"ticket_id": "777", "subject": "Refund", "description": "money back please"}).encode()
    headers = {"Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, body)}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    response = app.test_client().post("/webhooks/zendesk", data=body, headers=headers)
    assert response.status_code == 202, response.get_data()
    with app.extensions["triage"].store.session() as session:
        return response.headers["X-Request-Id"], session.scalar(select(Delivery.request_id))


@pytest.mark.parametrize("request_id", ["abc-123", "A" * 64, "req.v1:2024_01-01", "4f1c9a"])
def test_a_short_plain_request_id_is_kept(make_app, request_id):
    assert deliver(make_app(), request_id) == (request_id, request_id)


@pytest.mark.parametrize("request_id", ["A" * 65, "x" * 10_000, "", "a b", "<script>", "id\x7f", "naïve", "a/b",
                                        "a;b=c", "\x00"], ids=lambda text: repr(text[:12]))
def test_any_other_request_id_is_replaced_by_our_own(make_app, request_id):
    header, stored = deliver(make_app(), request_id)
    assert OUR_OWN.fullmatch(header) and stored == header


def test_without_a_request_id_we_make_one(make_app):
    header, stored = deliver(make_app(), None)
    assert OUR_OWN.fullmatch(header) and stored == header


def test_an_unsafe_request_id_is_not_echoed_on_an_error_either(make_app):
    response = make_app().test_client().post("/webhooks/zendesk", data=b"{}", headers={"X-Request-Id": "<b>" * 30})
    assert response.status_code == 401 and OUR_OWN.fullmatch(response.headers["X-Request-Id"])
