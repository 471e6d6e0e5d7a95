"""The Freshdesk adapter through requests against the fake Freshdesk API v2."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from fake_freshdesk import STATUS_CLOSED, STATUS_RESOLVED
from integrations.errors import AuthFailed, NotFound, RateLimited, Rejected
from integrations.route import Route

ROUTE = Route(category="Refund", tags=["triage_refund", "billing"], group=43000000100, assignee=43000007001,
              field={"name": "cf_category", "value": "Refund"}, note="triage: category Refund, confidence 0.91")


def test_apply_re_reads_then_merges_tags_and_sets_group_responder_field_and_note(freshdesk, fake_freshdesk):
    fake_freshdesk.add_ticket(7, tags=["vip"])
    result = freshdesk.apply("7", ROUTE)
    methods = [(c.method, c.path) for c in fake_freshdesk.requests if not c.path.endswith(("groups", "agents", "ticket_fields"))]
    assert methods == [("GET", "/api/v2/tickets/7"), ("GET", "/api/v2/tickets/7/conversations"),
                       ("POST", "/api/v2/tickets/7/notes"), ("PUT", "/api/v2/tickets/7")]
    [put] = fake_freshdesk.calls("PUT")
    assert put.body == {"tags": ["vip", "triage_refund", "billing"], "group_id": 43000000100,
                        "responder_id": 43000007001, "custom_fields": {"cf_category": "Refund"}}
    assert fake_freshdesk.calls("POST")[0].body == {"body": ROUTE.note, "private": True}
    assert put.headers["Authorization"].startswith("Basic ")
    assert result["written"]["group_id"] == 43000000100


def test_a_ticket_an_agent_took_keeps_its_group_and_responder(freshdesk, fake_freshdesk):
    fake_freshdesk.add_ticket(8, group_id=43000000200, responder_id=43000007001, custom_fields={"cf_category": "Billing"})
    result = freshdesk.apply("8", ROUTE)
    [put] = fake_freshdesk.calls("PUT")
    assert put.body == {"tags": ["triage_refund", "billing"]}
    assert fake_freshdesk.tickets[8]["group_id"] == 43000000200
    assert any("already assigned" in r for r in result["skipped"]) and any("already 'Billing'" in r for r in result["skipped"])


def test_applying_twice_writes_once_and_posts_one_note(freshdesk, fake_freshdesk):
    fake_freshdesk.add_ticket(9)
    freshdesk.apply("9", ROUTE)
    assert freshdesk.apply("9", ROUTE)["written"] is None
    assert len(fake_freshdesk.calls("PUT")) == 1 and len(fake_freshdesk.notes[9]) == 1


def test_a_note_posted_before_a_failed_put_is_not_posted_again(freshdesk, fake_freshdesk):
    fake_freshdesk.add_ticket(10)
    fake_freshdesk.fail(503, method="PUT")
    with pytest.raises(Exception):
        freshdesk.apply("10", ROUTE)
    freshdesk.apply("10", ROUTE)
    assert len(fake_freshdesk.notes[10]) == 1 and "triage_refund" in fake_freshdesk.tickets[10]["tags"]


def test_a_429_is_raised_with_retry_after_and_nothing_waits(freshdesk, fake_freshdesk):
    fake_freshdesk.add_ticket(11)
    fake_freshdesk.fail(429, method="GET", retry_after="17")
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        freshdesk.fetch_ticket("11")
    assert caught.value.retry_after == 17 and time.monotonic() - started < 5


def test_permanent_errors(freshdesk, fake_freshdesk, store):
    with pytest.raises(NotFound):
        freshdesk.fetch_ticket("404")
    fake_freshdesk.add_ticket(12)
    fake_freshdesk.fail(400, method="PUT")
    with pytest.raises(Rejected) as rejected:
        freshdesk.apply("12", Route(category="Refund", tags=["triage_refund"]))
    assert rejected.value.permanent
    from helpdesk_settings import helpdesk_settings
    from integrations.registry import build_helpdesk

    settings = helpdesk_settings(store, freshdesk=fake_freshdesk, freshdesk_api_key="wrong")
    with pytest.raises(AuthFailed):
        build_helpdesk("freshdesk", settings, store).fetch_ticket("12")


def test_history_pages_by_updated_since_and_keeps_resolved_and_closed(freshdesk, fake_freshdesk):
    fake_freshdesk.per_page_max = 2
    for n in range(1, 6):
        fake_freshdesk.add_ticket(n, status=STATUS_RESOLVED if n % 2 else STATUS_CLOSED, group_id=43000000100)
    fake_freshdesk.add_ticket(6)  # open: not history
    pages = list(freshdesk.history(datetime(2023, 1, 1, tzinfo=timezone.utc)))
    assert [len(p.tickets) for p in pages] == [2, 2, 1] and pages[-1].done and not pages[0].done
    assert json.loads(pages[0].cursor)["page"] == 2
    assert pages[0].tickets[0].ticket.body == "My order arrived broken" and pages[0].tickets[0].group == "43000000100"
    lists = fake_freshdesk.calls("GET", "/api/v2/tickets")
    assert lists[0].query["updated_since"] == ["2023-01-01T00:00:00Z"] and lists[1].query["page"] == ["2"]
    resumed = list(freshdesk.history(datetime(2023, 1, 1, tzinfo=timezone.utc), cursor=pages[1].cursor))
    assert [t.external_id for p in resumed for t in p.tickets] == ["5"]


def test_catalog_lists_groups_agents_and_field_choices(freshdesk):
    catalog = freshdesk.catalog()
    assert catalog.groups == {"43000000100": "Billing", "43000000200": "Shipping"}
    assert catalog.agents == {"43000007001": "Ana Agent"}
    assert catalog.fields["cf_category"].options == {"Refund", "Billing"}
