"""Helpdesk answers of the wrong shape (`{}`, missing keys, a proxy's HTML page, JSON cut short), from the fake
servers through the real adapters (zenpy, requests): a clear `UnexpectedAnswer` naming the endpoint; a group or
assignee whose list came back so is skipped and recorded in the write-back, and the tags, field and note are
written; a ticket read so is never written over."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from integrations.base import Catalog
from integrations.catalog_cache import CachedCatalog
from integrations.errors import Unavailable, UnexpectedAnswer
from integrations.route import Route
from routed_deliveries import routed_delivery, write_back_pipeline
from store.models import DONE, Delivery, WriteBack

HTML = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"
# (label, body, content type): what a proxy or a half-broken API answers with 200
SHAPES = [("empty object", {}, None), ("html page", HTML, "text/html"),
          ("json cut short", b'{"users": [{"id": 70', None), ("items without id", None, None)]

ZENDESK_ROUTE = Route(category="Refund", tags=["triage_refund", "billing"], group=100, assignee=7001,
                      field={"id": 555, "value": "refund"}, note="triage: category Refund")
FRESHDESK_ROUTE = Route(category="Refund", tags=["triage_refund", "billing"], group=43000000100,
                        assignee=43000007001, field={"name": "cf_category", "value": "Refund"},
                        note="triage: category Refund")


def _body(label: str, body, key: str):
    """The shape's body for a list under `key` (Zendesk wraps lists in an object, Freshdesk does not)."""
    if label != "items without id":
        return body
    items = [{"name": "Ana Agent"}]
    return {key: items} if key else items


@pytest.mark.parametrize("label,body,content_type", SHAPES, ids=[s[0] for s in SHAPES])
def test_zendesk_agents_list_of_the_wrong_shape_skips_the_assignee_and_writes_the_rest(
        zendesk, fake_zendesk, label, body, content_type):
    fake_zendesk.add_ticket(42, tags=["vip"])
    fake_zendesk.answer("/api/v2/users.json", _body(label, body, "users"), content_type=content_type)
    result = zendesk.apply("42", ZENDESK_ROUTE)
    [put] = fake_zendesk.calls("PUT", "/api/v2/tickets/")
    sent = put.body["ticket"]
    assert sent["additional_tags"] == ["triage_refund", "billing"] and sent["group_id"] == 100
    assert sent["custom_fields"] == [{"id": 555, "value": "refund"}] and sent["comment"]["body"] == ZENDESK_ROUTE.note
    assert "assignee_id" not in sent and fake_zendesk.tickets[42]["assignee_id"] is None
    [skipped] = result["skipped"]
    assert skipped.startswith("assignee: '7001' could not be confirmed (unexpected answer from GET /api/v2/users.json")


def test_zendesk_groups_list_of_the_wrong_shape_skips_the_group(zendesk, fake_zendesk):
    fake_zendesk.add_ticket(43)
    fake_zendesk.answer("/api/v2/groups.json", HTML, content_type="text/html")
    result = zendesk.apply("43", ZENDESK_ROUTE)
    sent = fake_zendesk.calls("PUT")[0].body["ticket"]
    assert "group_id" not in sent and sent["assignee_id"] == 7001 and sent["additional_tags"]
    assert result["skipped"] == ["group: '100' could not be confirmed (unexpected answer from GET /api/v2/groups.json: "
                                 f"not JSON (text/html, {len(HTML)} bytes))"]


@pytest.mark.parametrize("body", [{}, HTML, {"ticket": {"id": 44}}, b'{"ticket": {"id": 44, "updat'],
                         ids=["empty object", "html page", "no updated_at", "json cut short"])
def test_zendesk_ticket_read_of_the_wrong_shape_names_the_endpoint_and_writes_nothing(zendesk, fake_zendesk, body):
    fake_zendesk.add_ticket(44)
    fake_zendesk.answer("/api/v2/tickets/44.json", body, method="GET")
    with pytest.raises(UnexpectedAnswer) as caught:
        zendesk.apply("44", Route(category="Refund", tags=["triage_refund"]))
    assert caught.value.endpoint == "GET /api/v2/tickets/44.json" and not caught.value.permanent
    assert "unexpected answer from GET /api/v2/tickets/44.json" in str(caught.value)
    assert fake_zendesk.calls("PUT") == []


@pytest.mark.parametrize("label,body,content_type", SHAPES, ids=[s[0] for s in SHAPES])
def test_freshdesk_agents_list_of_the_wrong_shape_skips_the_responder_and_writes_the_rest(
        freshdesk, fake_freshdesk, label, body, content_type):
    fake_freshdesk.add_ticket(7, tags=["vip"])
    fake_freshdesk.answer("/api/v2/agents", _body(label, body, ""), method="GET", content_type=content_type)
    result = freshdesk.apply("7", FRESHDESK_ROUTE)
    [put] = fake_freshdesk.calls("PUT")
    assert put.body == {"tags": ["vip", "triage_refund", "billing"], "group_id": 43000000100,
                        "custom_fields": {"cf_category": "Refund"}}
    assert fake_freshdesk.calls("POST")[0].body == {"body": FRESHDESK_ROUTE.note, "private": True}
    [skipped] = result["skipped"]
    assert skipped.startswith("assignee: '43000007001' could not be confirmed "
                              "(unexpected answer from GET /api/v2/agents")


def test_freshdesk_groups_list_of_the_wrong_shape_skips_the_group(freshdesk, fake_freshdesk):
    fake_freshdesk.add_ticket(8)
    fake_freshdesk.answer("/api/v2/groups", {}, method="GET")
    result = freshdesk.apply("8", FRESHDESK_ROUTE)
    [put] = fake_freshdesk.calls("PUT")
    assert "group_id" not in put.body and put.body["responder_id"] == 43000007001
    assert result["skipped"] == ["group: '43000000100' could not be confirmed (unexpected answer from GET "
                                 "/api/v2/groups: not a list (an object with no keys))"]


@pytest.mark.parametrize("path,body", [("/api/v2/tickets/9", {}), ("/api/v2/tickets/9", {"id": 9}),
                                       ("/api/v2/tickets/9", HTML), ("/api/v2/tickets/9/conversations", {})],
                         ids=["ticket empty", "ticket without tags", "ticket html", "conversations empty object"])
def test_freshdesk_ticket_reads_of_the_wrong_shape_never_replace_the_tags(freshdesk, fake_freshdesk, path, body):
    fake_freshdesk.add_ticket(9, tags=["vip"])
    fake_freshdesk.answer(path, body, method="GET")
    with pytest.raises(UnexpectedAnswer) as caught:
        freshdesk.apply("9", Route(category="Refund", tags=["triage_refund"], note="triage: category Refund"))
    assert caught.value.endpoint == f"GET {path}" and f"unexpected answer from GET {path}" in str(caught.value)
    assert fake_freshdesk.calls("PUT") == [] and fake_freshdesk.calls("POST") == []
    assert fake_freshdesk.tickets[9]["tags"] == ["vip"]


def test_the_issue_case_is_written_and_recorded_not_dead_lettered(store, zendesk, fake_zendesk):
    """`GET /api/v2/users.json` answering `{}` while the catalog is read: the write-back is done, the group and
    tags are written, and the unconfirmed assignee is in the write-back's `skipped`."""
    fake_zendesk.add_ticket(77)
    fake_zendesk.answer("/api/v2/users.json", {})
    delivery_id = routed_delivery(store, "zendesk", "77", ZENDESK_ROUTE)
    assert write_back_pipeline(store, {"zendesk": zendesk}).process(delivery_id, "w1") == DONE
    with store.session() as session:
        assert session.get(Delivery, delivery_id).last_error is None
        write_back = session.scalars(select(WriteBack).where(WriteBack.delivery_id == delivery_id)).one()
        assert write_back.state == "done"
        assert write_back.result["skipped"][0].startswith("assignee: '7001' could not be confirmed "
                                                          "(unexpected answer from GET /api/v2/users.json")
    assert fake_zendesk.tickets[77]["group_id"] == 100 and "triage_refund" in fake_zendesk.tickets[77]["tags"]


def test_routing_check_reads_get_the_error_naming_the_endpoint(zendesk, fake_zendesk, freshdesk, fake_freshdesk):
    for adapter, fake, path in ((zendesk, fake_zendesk, "/api/v2/groups.json"),
                                (freshdesk, fake_freshdesk, "/api/v2/groups")):
        fake.answer(path, HTML, content_type="text/html")
        with pytest.raises(Unavailable) as caught:
            adapter.catalog()  # what `triage routing check` reads: a part it could not read is an error, not "missing"
        assert f"unexpected answer from GET {path}: not JSON (text/html" in str(caught.value)


def test_a_catalog_with_an_unconfirmed_part_is_read_again_within_a_minute():
    now, loads = [0.0], []

    def load() -> Catalog:
        loads.append(now[0])
        return Catalog(groups={}, agents={}, fields={}, unconfirmed={"groups": "unexpected answer"} if len(loads) == 1
                       else {})

    cache = CachedCatalog(load, ttl=600.0, clock=lambda: now[0])
    cache.get()
    now[0] = 30.0
    cache.get()
    now[0] = 61.0
    assert cache.get().unconfirmed == {} and loads == [0.0, 61.0]
    now[0] = 300.0
    cache.get()
    assert loads == [0.0, 61.0]  # a whole catalog keeps its ten minutes
