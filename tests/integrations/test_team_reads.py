"""The team reads of assignment by load (members, availability, open counts) through the real clients against
the fake Zendesk and Freshdesk APIs: paging, absent APIs, the budget, and every failure as our error types."""
from __future__ import annotations

import pytest

from helpdesk_settings import helpdesk_settings
from integrations.errors import RateLimited, Unavailable
from integrations.team import Member

HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.fixture
def zteam(zendesk):
    return zendesk.assigner.team


@pytest.fixture
def fteam(freshdesk):
    return freshdesk.assigner.team


# ---- Zendesk


def test_zendesk_members_carry_names_availability_and_who_may_not_take_tickets(zteam, fake_zendesk):
    fake_zendesk.add_agent(11, "Ana", [500])
    fake_zendesk.add_agent(12, "Ben", [500, 600], available=False)
    fake_zendesk.add_agent(13, "Cid", [500], active=False)
    fake_zendesk.add_agent(14, "Dee", [500])
    fake_zendesk.add_agent(15, "Eve", [600])  # another group
    next(u for u in fake_zendesk.users if u["id"] == 14)["suspended"] = True
    assert zteam.members("500") == [Member("11", "Ana", True, True), Member("12", "Ben", False, True),
                                    Member("13", "Cid", True, False), Member("14", "Dee", True, False)]
    assert fake_zendesk.groups[-2]["name"] == "Group 500"


def test_zendesk_a_member_deleted_or_demoted_is_never_active(zteam, fake_zendesk):
    fake_zendesk.add_agent(11, "Ana", [500])
    fake_zendesk.add_agent(12, "Ben", [500])
    fake_zendesk.add_agent(13, "Cid", [500])
    fake_zendesk.users = [u for u in fake_zendesk.users if u["id"] != 12]
    next(u for u in fake_zendesk.users if u["id"] == 13)["role"] = "end-user"
    assert [(m.agent_id, m.active) for m in zteam.members("500")] == [("11", True), ("12", False), ("13", False)]


def test_zendesk_memberships_and_availabilities_are_read_through_every_page(zteam, fake_zendesk):
    fake_zendesk.list_page_size = 2
    for n in range(5):
        fake_zendesk.add_agent(20 + n, f"Agent {n}", [500], available=n != 3)
    members = zteam.members("500")
    assert [m.agent_id for m in members] == ["20", "21", "22", "23", "24"]
    assert [m.available for m in members] == [True, True, True, False, True]
    assert len(fake_zendesk.calls("GET", "/api/v2/groups/500/memberships")) == 3
    assert len(fake_zendesk.calls("GET", "/api/v2/agent_availabilities")) == 3


@pytest.mark.parametrize("status", [404, 403])
def test_zendesk_without_the_availability_api_every_member_is_available_none(zteam, fake_zendesk, status):
    fake_zendesk.add_agent(11, "Ana", [500], available=False)
    fake_zendesk.add_agent(12, "Ben", [500], active=False)
    if status == 404:
        fake_zendesk.availability_api = False
    else:
        fake_zendesk.fail(403, path_prefix="/api/v2/agent_availabilities")
    assert zteam.members("500") == [Member("11", "Ana", None, True), Member("12", "Ben", None, False)]


def test_zendesk_an_empty_group_costs_one_call(zteam, fake_zendesk):
    fake_zendesk.add_group(500, "Empty")
    assert zteam.members("500") == []
    assert [c.path for c in fake_zendesk.requests] == ["/api/v2/groups/500/memberships.json"]


def test_zendesk_open_count_is_the_search_count_of_new_open_and_pending(zteam, fake_zendesk):
    fake_zendesk.add_agent(11, "Ana", [500], open_tickets=3)
    fake_zendesk.add_agent(12, "Ben", [500], open_tickets=2)
    for ticket_id, status in ((1, "new"), (2, "pending"), (3, "hold"), (4, "solved"), (5, "closed")):
        fake_zendesk.add_ticket(ticket_id, status=status, assignee_id=11)
    assert zteam.open_count("11") == fake_zendesk.open_count(11) == 5
    assert zteam.open_count("12") == 2
    [call, _] = fake_zendesk.calls("GET", "/api/v2/search/count")
    assert call.query["query"] == ["type:ticket assignee:11 status<hold"]
    assert len(fake_zendesk.solve_for(11, 2)) == 2
    assert zteam.open_count("11") == fake_zendesk.open_count(11) == 3


def test_zendesk_a_429_is_rate_limited_with_its_retry_after(zteam, fake_zendesk):
    fake_zendesk.fail(429, path_prefix="/api/v2/search/count", retry_after="17")
    with pytest.raises(RateLimited) as raised:
        zteam.open_count("11")
    assert raised.value.retry_after == 17.0


def test_zendesk_a_5xx_while_reading_members_is_unavailable(zteam, fake_zendesk):
    fake_zendesk.add_agent(11, "Ana", [500])
    fake_zendesk.fail(503, path_prefix="/api/v2/users/show_many")
    with pytest.raises(Unavailable) as raised:
        zteam.members("500")
    assert raised.value.status == 503


@pytest.mark.parametrize("prefix, body, endpoint", [
    ("/api/v2/search/count", {}, "/api/v2/search/count.json"),
    ("/api/v2/search/count", {"count": "many"}, "/api/v2/search/count.json"),
    ("/api/v2/search/count", HTML, "/api/v2/search/count.json"),
    ("/api/v2/search/count", [1, 2], "/api/v2/search/count.json"),
])
def test_zendesk_a_count_of_the_wrong_shape_is_unavailable_naming_the_endpoint(zteam, fake_zendesk, prefix, body,
                                                                               endpoint):
    fake_zendesk.answer(prefix, body, content_type="text/html" if isinstance(body, bytes) else None)
    with pytest.raises(Unavailable) as raised:
        zteam.open_count("11")
    assert endpoint in str(raised.value)


@pytest.mark.parametrize("prefix, body", [
    ("/api/v2/groups/500/memberships", {}),
    ("/api/v2/groups/500/memberships", HTML),
    ("/api/v2/groups/500/memberships", {"group_memberships": [{"id": 1}]}),
    ("/api/v2/users/show_many", {"users": None}),
    ("/api/v2/agent_availabilities", {}),
    ("/api/v2/agent_availabilities", {"data": [{"id": "x"}]}),
])
def test_zendesk_members_of_the_wrong_shape_are_unavailable_naming_the_endpoint(zteam, fake_zendesk, prefix, body):
    fake_zendesk.add_agent(11, "Ana", [500])
    fake_zendesk.answer(prefix, body, content_type="text/html" if isinstance(body, bytes) else None)
    with pytest.raises(Unavailable) as raised:
        zteam.members("500")
    assert prefix in str(raised.value)


def test_zendesk_team_reads_spend_their_own_budget_not_the_writes(store, fake_zendesk):
    from integrations.zendesk.client import build_zenpy
    from integrations.zendesk.team import ZendeskTeam

    settings = helpdesk_settings(store, zendesk=fake_zendesk)
    team = ZendeskTeam(build_zenpy(settings, store, team_reads_per_minute=2, period=600.0))
    fake_zendesk.add_agent(11, "Ana", [500], open_tickets=1)
    assert team.open_count("11") == 1  # the single burst token
    with pytest.raises(RateLimited, match="zendesk:team_reads"):
        team.open_count("11")
    assert len(fake_zendesk.calls("GET", "/api/v2/search/count")) == 1  # refused before it was sent
    zenpy = build_zenpy(settings, store, team_reads_per_minute=2, period=600.0)
    zenpy.tickets.session.require_budget("PUT", "/api/v2/tickets/1.json")  # writes are untouched: no error


# ---- Freshdesk


def test_freshdesk_members_carry_names_availability_and_who_may_not_take_tickets(fteam, fake_freshdesk):
    fake_freshdesk.add_agent(11, "Ana", [500])
    fake_freshdesk.add_agent(12, "Ben", [500, 600], available=False)
    fake_freshdesk.add_agent(13, "Cid", [500], active=False)
    fake_freshdesk.add_agent(14, "Dee", [500])
    fake_freshdesk.add_agent(15, "Eve", [600])
    fake_freshdesk.agents = [a for a in fake_freshdesk.agents if a["id"] != 14]  # deleted, still in the group
    assert fteam.members("500") == [Member("11", "Ana", True, True), Member("12", "Ben", False, True),
                                    Member("13", "Cid", True, False), Member("14", "14", False, False)]
    fake_freshdesk.set_available(12, True)
    assert fteam.members("500")[1].available is True


def test_freshdesk_an_unverified_agent_is_not_active(fteam, fake_freshdesk):
    fake_freshdesk.add_agent(11, "Ana", [500])
    fake_freshdesk.agents[-1]["contact"]["active"] = False
    assert fteam.members("500") == [Member("11", "Ana", True, False)]


def test_freshdesk_the_agent_list_is_read_through_every_page(fteam, fake_freshdesk):
    fake_freshdesk.per_page_max = 2
    for n in range(5):
        fake_freshdesk.add_agent(20 + n, f"Agent {n}", [500])
    assert [m.name for m in fteam.members("500")] == [f"Agent {n}" for n in range(5)]
    assert len(fake_freshdesk.calls("GET", "/api/v2/agents")) == 3  # 6 agents with Ana, 2 a page


def test_freshdesk_open_count_is_the_ticket_search_total_of_unresolved_statuses(fteam, fake_freshdesk):
    fake_freshdesk.statuses[6] = ["Waiting on Customer", "Awaiting your Reply"]
    fake_freshdesk.add_agent(11, "Ana", [500], open_tickets=40)  # more than a search page holds
    fake_freshdesk.add_agent(12, "Ben", [500], open_tickets=1)
    for ticket_id, status in ((1, 3), (2, 6), (3, 4), (4, 5)):
        fake_freshdesk.add_ticket(ticket_id, status=status, responder_id=11)
    assert fteam.open_count("11") == fake_freshdesk.open_count(11) == 42
    assert fteam.open_count("12") == 1
    call = fake_freshdesk.calls("GET", "/api/v2/search/tickets")[0]
    assert call.query["query"] == ['"agent_id:11 AND (status:2 OR status:3 OR status:6)"']
    assert len(fake_freshdesk.calls("GET", "/api/v2/ticket_fields")) == 1  # the statuses are read once
    fake_freshdesk.solve_for(11, 5)
    assert fteam.open_count("11") == fake_freshdesk.open_count(11) == 37


def test_freshdesk_a_429_is_rate_limited_and_a_5xx_unavailable(fteam, fake_freshdesk):
    fake_freshdesk.add_agent(11, "Ana", [500])
    fake_freshdesk.fail(429, path_prefix="/api/v2/search/tickets", retry_after="30")
    with pytest.raises(RateLimited) as limited:
        fteam.open_count("11")
    assert limited.value.retry_after == 30.0
    fake_freshdesk.fail(500, path_prefix="/api/v2/agents")
    with pytest.raises(Unavailable) as down:
        fteam.members("500")
    assert down.value.status == 500


@pytest.mark.parametrize("prefix, body, call", [
    ("/api/v2/groups/500", {}, "members"),
    ("/api/v2/groups/500", HTML, "members"),
    ("/api/v2/groups/500", {"agent_ids": ["x"]}, "members"),
    ("/api/v2/agents", {}, "members"),
    ("/api/v2/agents", [{"contact": {}}], "members"),
    ("/api/v2/search/tickets", {}, "open_count"),
    ("/api/v2/search/tickets", {"results": [], "total": None}, "open_count"),
    ("/api/v2/search/tickets", HTML, "open_count"),
    ("/api/v2/ticket_fields", {}, "open_count"),
])
def test_freshdesk_an_answer_of_the_wrong_shape_is_unavailable_naming_the_endpoint(fteam, fake_freshdesk, prefix,
                                                                                   body, call):
    fake_freshdesk.add_agent(11, "Ana", [500])
    fake_freshdesk.answer(prefix, body, content_type="text/html" if isinstance(body, bytes) else None)
    with pytest.raises(Unavailable) as raised:
        fteam.members("500") if call == "members" else fteam.open_count("11")
    assert prefix in str(raised.value)


def test_freshdesk_team_reads_spend_their_own_budget(store, fake_freshdesk):
    from integrations.freshdesk.client import build_client
    from integrations.freshdesk.team import FreshdeskTeam

    client = build_client(helpdesk_settings(store, freshdesk=fake_freshdesk), store, team_reads_per_minute=2,
                          period=600.0)
    fake_freshdesk.add_agent(11, "Ana", [500], open_tickets=2)
    assert FreshdeskTeam(client).open_count("11") == 2
    with pytest.raises(RateLimited, match="freshdesk:team_reads"):
        FreshdeskTeam(client).members("500")
    assert fake_freshdesk.calls("GET", "/api/v2/groups") == []  # refused before it was sent
    client.session.require_budget("PUT", "/api/v2/tickets/1")  # writes are untouched: no error
