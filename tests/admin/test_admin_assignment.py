"""The Assignment section (issue 19): each group's agents with their state, open count, cap and today's
assignments, the tickets waiting for capacity, and the away form (CSRF, bearer JSON, past dates refused,
unknown agents 404, back now). Both stores; one test in real headless Chromium.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from admin_seed import ADMIN_TOKEN, log_in
from browser import browser_page, live_server, screenshot
from store.assignments import ASSIGNED, WAITING, claim
from store.models import AgentLoad, Assignment, TeamGroup
from store.types import utcnow

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WAITING_ZENDESK = 55  # more than the 50 rows the page lists
ASSIGNMENT_RULES = """
[assignment]
max_open_per_agent = 8

[assignment.agents."Ana"]
max_open = 5

[assignment.agents."201"]
max_open = 3
"""


@pytest.fixture
def app(make_app, tmp_path):
    from webhook_app import REPO

    routing = tmp_path / "routing.toml"
    routing.write_text((REPO / "config" / "routing.toml").read_text() + ASSIGNMENT_RULES)
    return make_app(triage_admin_token=ADMIN_TOKEN, triage_routing_file=routing)


@pytest.fixture
def team(store) -> dict:
    """Zendesk "Billing team": Ana (available, 3 counted + 2 since), Ben (the helpdesk says unavailable), Cleo
    (marked away), 104 (listed, never stored); Freshdesk "Support": Dee. 55 + 1 tickets wait for capacity."""
    now = utcnow()
    midnight = datetime.combine(now.date(), time.min, tzinfo=timezone.utc)
    with store.session() as session:
        session.add_all([
            TeamGroup(helpdesk="zendesk", group_id="10", name="Billing team", members=["101", "102", "103", "104"],
                      read_at=now),
            TeamGroup(helpdesk="freshdesk", group_id="7", name="Support", members=["201"], read_at=now),
            AgentLoad(helpdesk="zendesk", agent_id="101", name="Ana", active=True, available=True, open_count=3,
                      counted_at=now - timedelta(hours=1), assigned_since=2, checked_at=now),
            AgentLoad(helpdesk="zendesk", agent_id="102", name="Ben", active=True, available=False, open_count=1,
                      counted_at=now, assigned_since=0, checked_at=now),
            AgentLoad(helpdesk="zendesk", agent_id="103", name="Cleo", active=True, available=True, open_count=0,
                      counted_at=now, assigned_since=0, away_until=now + timedelta(days=2), away_set_by="admin"),
            AgentLoad(helpdesk="freshdesk", agent_id="201", name="Dee", active=True, available=None, open_count=0,
                      counted_at=now, assigned_since=0),
        ])
        for n, when in enumerate([midnight, midnight + timedelta(seconds=1), midnight - timedelta(minutes=1)]):
            session.add(Assignment(helpdesk="zendesk", external_id=f"50{n}", group_id="10", group_name="Billing team",
                                   rule="least_loaded", category="BILLING", route={}, state=ASSIGNED, agent_id="101",
                                   agent_name="Ana", assigned_at=when))  # two today, one yesterday
        for n in range(WAITING_ZENDESK):
            session.add(Assignment(helpdesk="zendesk", external_id=str(700 + n), group_id="10",
                                   group_name="Billing team", rule="least_loaded", category="REFUNDS", route={},
                                   state=WAITING, waiting_since=now - timedelta(minutes=60 + n),
                                   reason="nobody in Billing team has room: 1 available, all at their cap of 5"))
        session.add(Assignment(helpdesk="freshdesk", external_id="9", group_id="7", group_name=None, rule="round_robin",
                               category="PAYMENT", route={}, state=WAITING, waiting_since=now - timedelta(minutes=5),
                               reason="nobody in group 7 is available"))
    return {"now": now}


def section(page: str) -> str:
    return page.split('<section class="card" id="assignment">', 1)[1].split("</section>", 1)[0]


def agent_row(page: str, agent_id: str) -> str:
    return " ".join(section(page).split(f'data-agent="{agent_id}"', 1)[1].split("</tr>", 1)[0].split())


def logged_in(app):
    client = app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    page = client.get("/admin").get_data(as_text=True)
    return client, page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def away_of(store, helpdesk: str, agent_id: str) -> tuple:
    with store.session() as session:
        row = session.scalar(select(AgentLoad).where(AgentLoad.helpdesk == helpdesk, AgentLoad.agent_id == agent_id))
        return row.away_until, row.away_set_by


def tomorrow() -> str:
    return (utcnow() + timedelta(days=1)).date().isoformat()


def test_the_section_shows_each_groups_agents_and_the_capacity_queue(app, team):
    page = app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    part = section(page)
    assert "Zendesk: Billing team" in part and "Freshdesk: Support" in part
    ana = agent_row(page, "101")
    assert ">available<" in ana.replace(" ", "")
    assert '<td class="open">5 <span class="muted small">(3 counted + 2 since)</span></td>' in ana
    assert '<td class="cap">5</td>' in ana and '<td class="today">2</td>' in ana  # own cap; yesterday's not today
    ben = agent_row(page, "102")
    assert "off <span" in ben and "helpdesk says unavailable" in ben and '<td class="cap">8</td>' in ben
    cleo = agent_row(page, "103")
    until = (team["now"] + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    assert f"away until {until}" in cleo and "(by admin)" in cleo and "back-button" in cleo
    assert "not read yet" in agent_row(page, "104") and "<form" not in agent_row(page, "104")
    dee = agent_row(page, "201")
    assert ">available<" in dee.replace(" ", "") and '<td class="cap">3</td>' in dee and "back-button" not in dee

    assert '<p class="mid" id="capacity-waiting">56</p>' in part and "freshdesk 1 · zendesk 55" in part
    assert '<span class="shown" id="waiting-shown">1–25 of 56</span>' in part  # a page of 25, oldest first
    assert '<p class="mid" id="capacity-oldest">1 h 54 min</p>' in part  # the 55th zendesk ticket: 114 min
    queue = part.split('id="capacity-queue"', 1)[1]
    assert queue.count("<tr><td>") == 25
    assert queue.index("zendesk #754") < queue.index("zendesk #753")  # oldest first
    assert "zendesk #730<" in queue and "zendesk #729<" not in queue  # the 31 youngest are on the next pages
    assert "freshdesk #9</td>" not in queue
    assert "all at their cap of 5" in queue and "REFUNDS" in queue

    refreshed = app.test_client().get("/admin/data.json", headers=BEARER).get_json()["sections"]["assignment"]
    assert "1–25 of 56" in refreshed and 'data-agent="101"' in refreshed


def test_without_groups_the_section_says_so(app):
    part = section(app.test_client().get("/admin", headers=BEARER).get_data(as_text=True))
    assert 'id="no-groups"' in part and 'id="no-capacity-wait"' in part and "waiting-shown" not in part


def test_the_away_form_needs_csrf_and_is_read_back_on_the_page(app, team, store):
    client, csrf = logged_in(app)
    path = "/admin/agents/zendesk/101/away"
    assert client.post(path, data={"date": tomorrow()}).status_code == 403
    assert client.post(path, data={"date": tomorrow(), "csrf": "forged"}).status_code == 403
    assert away_of(store, "zendesk", "101") == (None, None)

    response = client.post(path, data={"date": tomorrow(), "time": "09:30", "csrf": csrf})
    assert response.status_code == 303 and response.headers["Location"].endswith("?agent=zendesk:101#assignment")
    expected = datetime.fromisoformat(f"{tomorrow()}T09:30:00+00:00")
    assert away_of(store, "zendesk", "101") == (expected, "admin")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Ana is away until {tomorrow()} 09:30 UTC (marked by admin)" in page
    assert f"away until {tomorrow()} 09:30" in agent_row(page, "101")

    refused = client.post(path, data={"date": "2020-01-01", "csrf": csrf})  # a browser: the page, with why
    assert refused.status_code == 400
    assert "2020-01-01 00:00 UTC has passed" in refused.get_data(as_text=True).split('id="action-error"', 1)[1]
    assert away_of(store, "zendesk", "101") == (expected, "admin")  # unchanged


def test_bearer_clients_get_json_and_bad_dates_are_400(app, team, store):
    client = app.test_client()
    path = "/admin/agents/zendesk/102/away"
    for form in ({"date": "2020-01-01"}, {"until": (utcnow() - timedelta(minutes=1)).isoformat()},
                 {"date": "tomorrow"}, {"date": tomorrow(), "time": "25:00"}, {"until": "2026-13-01"},
                 {"date": "9" * 5000}, {}, {"date": (utcnow() + timedelta(days=400)).date().isoformat()}):
        response = client.post(path, data=form, headers=BEARER)
        assert response.status_code == 400, form
        assert response.get_json()["error"] == "bad_until" and len(response.get_json()["detail"]) < 200
    assert away_of(store, "zendesk", "102") == (None, None)

    until = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    answer = client.post(path, data={"until": until.astimezone(timezone(timedelta(hours=2))).isoformat()},
                         headers=BEARER)
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "away", "helpdesk": "zendesk", "agent_id": "102",
                                 "away_until": until.isoformat(), "set_by": "admin"}
    assert away_of(store, "zendesk", "102") == (until, "admin")
    naive = client.post(path, data={"until": f"{tomorrow()}T08:00"}, headers=BEARER).get_json()  # no offset: UTC
    assert naive["away_until"] == f"{tomorrow()}T08:00:00+00:00"


def test_back_now_clears_the_mark_and_the_rules_see_the_agent_again(app, team, store):
    now = utcnow()

    def chosen():
        with store.session() as session:
            # a group with no tickets waiting (those would go first): only the away mark decides
            return claim(session, helpdesk="zendesk", external_id="900", rule="least_loaded", group_id="11",
                         group_name="Billing team", category=None, route={}, eligible=["101", "103"],
                         cap_of=lambda agent_id, name: None, now=now, fresh_seconds=0).agent_id

    assert chosen() == "101"  # Cleo (0 open) is away: Ana (5 open) gets it
    response = app.test_client().post("/admin/agents/zendesk/103/away", data={"back": "1", "date": "junk"},
                                      headers=BEARER)
    assert response.get_json() == {"status": "back", "helpdesk": "zendesk", "agent_id": "103", "away_until": None,
                                   "set_by": None}
    assert away_of(store, "zendesk", "103") == (None, None)
    assert chosen() == "103"  # back: the fewest open tickets
    client, csrf = logged_in(app)
    back = client.post("/admin/agents/zendesk/101/away", data={"back": "1", "csrf": csrf})
    assert back.status_code == 303
    assert "Ana is back: the rules may give them tickets again." in client.get(back.headers["Location"]).get_data(
        as_text=True)


@pytest.mark.parametrize("helpdesk, agent_id", [("zendesk", "999"), ("freshdesk", "101"), ("jira", "101"),
                                                ("zendesk", ".."), ("zendesk", "a b"), ("ZENDESK", "101"),
                                                ("zendesk", "9" * 65)])
def test_an_unknown_agent_is_a_json_404(app, team, store, helpdesk, agent_id):
    response = app.test_client().post(f"/admin/agents/{helpdesk}/{agent_id}/away", data={"date": tomorrow()},
                                      headers=BEARER)
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"error", "detail"} and body["error"] == "not_found" and len(body["detail"]) < 200
    with store.session() as session:
        assert session.scalar(select(AgentLoad).where(AgentLoad.away_until.is_not(None),
                                                      AgentLoad.agent_id != "103")) is None


def test_a_crafted_agent_link_says_nothing_the_store_does_not(app, team):
    page = app.test_client().get("/admin?agent=zendesk:999", headers=BEARER).get_data(as_text=True)
    assert 'id="agent-away"' not in page and 'id="agent-back"' not in page
    page = app.test_client().get("/admin?agent=zendesk:103", headers=BEARER).get_data(as_text=True)
    assert "Cleo is away until" in page


def test_mark_an_agent_away_from_the_page_in_chromium(app, team, store, tmp_path, request):
    problems: list[str] = []
    with live_server(app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        row = "tr.agent[data-helpdesk='zendesk'][data-agent='101']"
        assert page.inner_text(f"{row} td.status") == "available"
        page.fill(f"{row} input[name=date]", tomorrow())
        page.fill(f"{row} input[name=time]", "14:45")
        page.click(f"{row} button.away-button")
        page.wait_for_selector("#agent-away")
        assert f"Ana is away until {tomorrow()} 14:45 UTC" in page.inner_text("#agent-away")
        assert page.inner_text(f"{row} td.status").startswith(f"away until {tomorrow()} 14:45")
        assert page.inner_text("#waiting-shown") == "1–25 of 56"
        page.locator("#assignment").scroll_into_view_if_needed()
        screenshot(page, f"admin-assignment-away-{request.node.callspec.id}")
        page.click(f"{row} button.back-button")  # no date needed to come back
        page.wait_for_selector("#agent-back")
        assert page.inner_text(f"{row} td.status") == "available"
    assert away_of(store, "zendesk", "101") == (None, None)
    assert not problems, problems
