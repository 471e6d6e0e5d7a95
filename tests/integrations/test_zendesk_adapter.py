"""The Zendesk adapter through the real zenpy code paths against the fake Zendesk API."""
from __future__ import annotations

import time

import pytest

from integrations.errors import AuthFailed, Conflict, NotFound, RateLimited, Rejected
from integrations.route import Route

ROUTE = Route(category="Refund", tags=["triage_refund", "billing"], group=100, assignee=7001,
              field={"id": 555, "value": "refund"}, note="triage: category Refund, confidence 0.93, model v3")


def puts(fake):
    return fake.calls("PUT", "/api/v2/tickets/")


def test_apply_adds_tags_sets_field_group_assignee_and_a_private_note_with_safe_update(zendesk, fake_zendesk):
    read = fake_zendesk.add_ticket(42, tags=["vip"])
    stamp = read["updated_at"]
    result = zendesk.apply("42", ROUTE)
    [put] = puts(fake_zendesk)
    assert put.path == "/api/v2/tickets/42.json"
    sent = put.body["ticket"]
    assert sent == {"id": 42, "additional_tags": ["triage_refund", "billing"], "group_id": 100, "assignee_id": 7001,
                    "custom_fields": [{"id": 555, "value": "refund"}], "safe_update": True, "updated_stamp": stamp,
                    "comment": {"body": ROUTE.note, "public": False}}
    assert "tags" not in sent  # `tags` would replace the agents' tags
    ticket = fake_zendesk.tickets[42]
    assert ticket["tags"] == ["vip", "triage_refund", "billing"]
    assert (ticket["group_id"], ticket["assignee_id"]) == (100, 7001)
    assert result["written"]["group_id"] == 100 and result["conflicts"] == 0


def test_a_conflict_where_an_agent_already_routed_writes_nothing_more(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(43)
    fake_zendesk.agent_edits[43] = {"group_id": 200, "assignee_id": 7002}
    result = zendesk.apply("43", ROUTE)
    assert [c.status for c in puts(fake_zendesk)] == [409]  # the refused write, and no second one
    assert fake_zendesk.tickets[43]["group_id"] == 200 and fake_zendesk.tickets[43]["assignee_id"] == 7002
    assert fake_zendesk.comments.get(43) is None
    assert result["written"] is None and "agent routed" in result["skipped"][0]


def test_a_conflict_on_an_unrelated_change_is_retried_on_the_new_version(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(44)
    fake_zendesk.agent_edits[44] = {"additional_tags": ["agent_tag"], "custom_fields": [{"id": 555, "value": "billing"}]}
    result = zendesk.apply("44", ROUTE)
    first, second = puts(fake_zendesk)
    assert (first.status, second.status) == (409, 200)
    assert second.body["ticket"]["updated_stamp"] != first.body["ticket"]["updated_stamp"]
    assert "custom_fields" not in second.body["ticket"]  # the agent's field value stays
    assert fake_zendesk.tickets[44]["tags"] == ["agent_tag", "triage_refund", "billing"]
    assert fake_zendesk.tickets[44]["custom_fields"] == [{"id": 555, "value": "billing"}]
    assert result["conflicts"] == 1 and fake_zendesk.tickets[44]["group_id"] == 100


def test_conflicts_that_keep_coming_raise_conflict(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(45)
    fake_zendesk.fail(409, count=5, method="PUT")
    with pytest.raises(Conflict):
        zendesk.apply("45", ROUTE)
    assert len(puts(fake_zendesk)) == 3


def test_applying_twice_adds_no_second_note(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(46)
    zendesk.apply("46", ROUTE)
    again = zendesk.apply("46", ROUTE)
    assert len(puts(fake_zendesk)) == 1 and again["written"] is None
    assert len(fake_zendesk.comments[46]) == 1


def test_an_assigned_ticket_keeps_its_group_and_assignee(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(47, group_id=200, assignee_id=7002)
    result = zendesk.apply("47", ROUTE)
    sent = puts(fake_zendesk)[0].body["ticket"]
    assert "group_id" not in sent and "assignee_id" not in sent
    assert sent["additional_tags"] == ["triage_refund", "billing"]
    assert any("already assigned" in reason for reason in result["skipped"])


def test_a_route_to_a_deleted_group_is_never_written(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(48)
    result = zendesk.apply("48", Route(category="Refund", tags=["triage_refund"], group=300))
    assert "group_id" not in puts(fake_zendesk)[0].body["ticket"]
    assert result["skipped"] == ["group: '300' does not exist in the helpdesk"]


def test_a_group_named_in_the_routing_file_is_written_by_id(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(49)
    zendesk.apply("49", Route(category="Refund", tags=["triage_refund"], group="Shipping"))
    assert puts(fake_zendesk)[0].body["ticket"]["group_id"] == 200


def test_a_429_is_raised_with_its_retry_after_without_sleeping(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(50)
    fake_zendesk.fail(429, method="PUT", retry_after="30")
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        zendesk.apply("50", ROUTE)
    assert caught.value.retry_after == 30 and time.monotonic() - started < 5
    assert len(puts(fake_zendesk)) == 1 and fake_zendesk.tickets[50]["tags"] == []


def test_a_missing_ticket_and_bad_credentials_are_permanent(zendesk, fake_zendesk, store):
    with pytest.raises(NotFound) as missing:
        zendesk.fetch_ticket("999")
    assert missing.value.permanent
    from helpdesk_settings import helpdesk_settings
    from integrations.registry import build_helpdesk

    wrong = build_helpdesk("zendesk", helpdesk_settings(store, zendesk=fake_zendesk, zendesk_token="wrong"), store)
    with pytest.raises(AuthFailed):
        wrong.fetch_ticket("1")


def test_a_value_zendesk_refuses_is_rejected(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(51)
    fake_zendesk.groups.append({"id": 400, "name": "Gone", "deleted": False})
    zendesk.catalog()  # cached with group 400 in it
    fake_zendesk.groups[-1]["deleted"] = True
    with pytest.raises(Rejected) as caught:
        zendesk.apply("51", Route(category="Refund", tags=["triage_refund"], group=400))
    assert caught.value.permanent and caught.value.status == 422


def test_fetch_ticket_reads_subject_body_tags_and_channel(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(52, subject="Where is my parcel", description="It is late", tags=["x"])
    ticket = zendesk.fetch_ticket("52")
    assert (ticket.subject, ticket.body, ticket.tags, ticket.channel) == ("Where is my parcel", "It is late", ("x",), "email")
