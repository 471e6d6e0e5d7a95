"""Tables that scale (issue 21, failure 4): the review queue and the capacity queue page on the server, say
"n of N", filter by state, category, helpdesk and age, search by ticket id or text, link each row to the ticket
in its helpdesk, and answer hostile query values with the defaults (a browser) or a 400 JSON (a bearer client),
never a 500. Both databases; Chromium with 500 waiting."""
from __future__ import annotations

import re

import pytest

from admin_seed import ADMIN_TOKEN, log_in
from browser import browser_page, live_server, screenshot
from fake_freshdesk import API_KEY
from fake_zendesk import EMAIL, TOKEN
from queue_seed import seed_waiting_assignments, seed_waiting_reviews

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def app(make_app, fake_zendesk, fake_freshdesk):
    """The admin page with both helpdesks configured (API calls go to the local fakes; links name the accounts)."""
    return make_app(triage_admin_token=ADMIN_TOKEN, zendesk_subdomain="acme", zendesk_email=EMAIL,
                    zendesk_api_token=TOKEN, zendesk_api_url=fake_zendesk.url, freshdesk_domain="acme-support",
                    freshdesk_api_key=API_KEY, freshdesk_api_url=fake_freshdesk.url)


def reviews_part(client, query: str = "", headers=None) -> str:
    response = client.get(f"/admin{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    return page.split('data-part="reviews">', 1)[1].split('<section class="card" id="failed">', 1)[0]


def shown(part: str) -> str:
    """The pager's "n of N"; "none match" when the filters leave no row (no pager then)."""
    found = re.search(r'id="reviews-shown">([^<]*)<', part)
    if found is None:
        assert 'id="no-matching-reviews"' in part, part[:2000]
        return "none match"
    return found.group(1)


def ticket_ids(part: str) -> list[str]:
    return re.findall(r"(?:zendesk|freshdesk) #(\d+)</", part)


def logged_in(app):
    client = app.test_client()
    assert client.post("/admin/login", data={"token": ADMIN_TOKEN}).status_code == 303
    return client


def test_161_waiting_read_161_and_page_by_25(app, store):
    seed_waiting_reviews(store, 161)
    client = app.test_client()
    part = reviews_part(client, headers=BEARER)
    assert '<span class="count" id="reviews-waiting" title="tickets waiting for a person">161</span>' in part
    assert shown(part) == "1–25 of 161"  # was "Review queue 100", no "of"
    assert ticket_ids(part) == [str(5000 + i) for i in range(25)]  # oldest first
    assert "page 1 of 7" in part

    last = reviews_part(client, "?reviews.page=7", headers=BEARER)
    assert shown(last) == "151–161 of 161" and ticket_ids(last) == [str(5000 + i) for i in range(150, 161)]
    bigger = reviews_part(client, "?reviews.size=100&reviews.page=2", headers=BEARER)
    assert shown(bigger) == "101–161 of 161" and ticket_ids(bigger)[0] == "5100"
    # the pager's links keep the size and lead to the neighbouring pages, back to this section
    assert 'href="/admin/?reviews.size=100#reviews"' in bigger  # page 1: no page number in the URL
    refreshed = client.get("/admin/data.json?reviews.page=7", headers=BEARER).get_json()["sections"]["reviews"]
    assert 'id="reviews-shown">151–161 of 161<' in refreshed  # the 15 s refresh asks with the page's query


@pytest.mark.parametrize("query, total", [
    ("reviews.helpdesk=freshdesk", 40),  # every fourth
    ("reviews.state=page", 80),  # not posted to Slack: the odd ones
    ("reviews.state=slack", 81),
    ("reviews.category=SHIPPING", 54),  # i % 3 == 1
    ("reviews.age=1h", 102),  # waiting 60 minutes or more: i <= 101
    ("reviews.q=5007", 1),  # a ticket id
    ("reviews.q=%235007", 1),  # "#5007"
    ("reviews.q=CHARGED+twice", 32),  # subject text, any case: i % 5 == 2
    ("reviews.q=%25", 0),  # "%" is a character to find, not a wildcard
    ("reviews.q=charged&reviews.helpdesk=freshdesk&reviews.category=PAYMENT", 2),  # i in (47, 107)
])
def test_filters_and_search_narrow_the_queue_on_the_server(app, store, query, total):
    seed_waiting_reviews(store, 161)
    part = reviews_part(app.test_client(), f"?{query}", headers=BEARER)
    if total:
        assert shown(part) == f"1–{min(total, 25)} of {total} matching (161 in all)"
        assert len(ticket_ids(part)) == min(total, 25)
    else:
        assert shown(part) == "none match" and 'id="no-matching-reviews"' in part
    assert '<span class="count" id="reviews-waiting" title="tickets waiting for a person">161</span>' in part
    assert 'class="clear-filters" href="/admin/#reviews"' in part


def test_a_filter_form_keeps_the_other_tables_state_and_starts_at_page_one(app, store):
    seed_waiting_reviews(store, 60)
    seed_waiting_assignments(store, 30)
    part = reviews_part(app.test_client(), "?reviews.page=2&waiting.page=2&waiting.helpdesk=zendesk&routed=5",
                        headers=BEARER)
    form = part.split('<form method="get"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="waiting.page" value="2">' in form
    assert '<input type="hidden" name="waiting.helpdesk" value="zendesk">' in form
    assert "reviews.page" not in form and "routed" not in form  # a new filter starts at page 1; no old notice
    assert 'href="/admin/?waiting.page=2&amp;waiting.helpdesk=zendesk&amp;reviews.page=3#reviews"' in part


HOSTILE = ["reviews.page=-1", "reviews.page=0", "reviews.page=abc", "reviews.page=99999999999999999999999",
           "reviews.size=0", "reviews.size=100000", "reviews.size=1e3", "reviews.helpdesk=nope",
           "reviews.state=%27%3B+drop+table+tickets", "reviews.age=forever", "reviews.category=" + "C" * 300,
           "reviews.q=" + "x" * 5000, "waiting.page=-5", "waiting.group=zendesk:%00"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_query_values_are_a_400_for_bearer_clients(app, store, query):
    seed_waiting_reviews(store, 30)
    client = app.test_client()
    for path in ("/admin", "/admin/data.json"):
        response = client.get(f"{path}?{query}", headers=BEARER)
        assert response.status_code == 400, (path, response.status_code)
        body = response.get_json()
        assert body["error"] == "bad_query" and query.split("=", 1)[0] in body["detail"]
        assert len(body["detail"]) < 300  # a 5,000-character value is not echoed


@pytest.mark.parametrize("query", HOSTILE + ["reviews.q=a%00b", "reviews.q=%E2%80%AE%F0%9F%92%A5",
                                             "reviews.page=2&reviews.page=x"])
def test_hostile_query_values_give_a_browser_the_defaults(app, store, query):
    seed_waiting_reviews(store, 30)
    client = logged_in(app)
    part = reviews_part(client, f"?{query}")
    assert re.fullmatch(r"(1–25|26–30|1–30) of 30|none match", shown(part)), shown(part)  # 1–30: size 100
    assert client.get(f"/admin/data.json?{query}").status_code == 200


def test_a_huge_page_number_shows_the_last_page(app, store):
    seed_waiting_reviews(store, 30)
    part = reviews_part(logged_in(app), "?reviews.page=99999999999999999999")
    assert shown(part) == "26–30 of 30"
    assert shown(reviews_part(app.test_client(), "?reviews.page=999", headers=BEARER)) == "26–30 of 30"


def test_each_row_links_to_the_ticket_in_its_helpdesk(app, store):
    seed_waiting_reviews(store, 4)
    part = reviews_part(app.test_client(), headers=BEARER)
    assert ('<a class="ticket-link" href="https://acme.zendesk.com/agent/tickets/5000" target="_blank" '
            'rel="noopener noreferrer">zendesk #5000</a>') in part
    assert ('<a class="ticket-link" href="https://acme-support.freshdesk.com/a/tickets/5003" target="_blank" '
            'rel="noopener noreferrer">freshdesk #5003</a>') in part


def test_without_an_account_name_there_is_no_link(make_app, store):
    seed_waiting_reviews(store, 2)
    part = reviews_part(make_app(triage_admin_token=ADMIN_TOKEN).test_client(), headers=BEARER)
    assert "zendesk #5000</td>" in part and "ticket-link" not in part


def assignment_part(client, query: str = "") -> str:
    response = client.get(f"/admin{query}", headers=BEARER)
    assert response.status_code == 200
    return response.get_data(as_text=True).split('id="capacity-queue-title"', 1)[1]


def test_the_capacity_queue_pages_filters_and_links(app, store):
    seed_waiting_assignments(store, 60)
    client = app.test_client()
    part = assignment_part(client)
    assert 'id="waiting-shown">1–25 of 60<' in part
    assert ('<a class="ticket-link" href="https://acme.zendesk.com/agent/tickets/8000" target="_blank" '
            'rel="noopener noreferrer">zendesk #8000</a>') in part
    assert 'href="https://acme-support.freshdesk.com/a/tickets/8002"' in part
    assert 'id="waiting-shown">51–60 of 60<' in assignment_part(client, "?waiting.page=3")
    by_group = assignment_part(client, "?waiting.group=zendesk:360002")
    assert 'id="waiting-shown">1–20 of 20 matching (60 in all)<' in by_group and "zendesk #8001<" in by_group
    assert "zendesk #8000<" not in by_group
    assert 'id="waiting-shown">1–20 of 20 matching' in assignment_part(client, "?waiting.helpdesk=freshdesk")
    assert 'id="waiting-shown">1–20 of 20 matching' in assignment_part(client, "?waiting.category=SHIPPING")
    assert 'id="waiting-shown">1–1 of 1 matching' in assignment_part(client, "?waiting.q=8042")
    assert 'id="waiting-shown">1–20 of 20 matching' in assignment_part(client, "?waiting.q=returns")
    assert 'id="waiting-shown">1–1 of 1 matching' in assignment_part(client, "?waiting.age=1h")  # 60 min: 8000
    nobody = assignment_part(client, "?waiting.q=nothing-like-this")
    assert 'id="no-matching-capacity-wait"' in nobody and "60 waiting in all" in nobody


def test_paging_and_filters_with_500_waiting_in_chromium(app, store, tmp_path, request):
    seed_waiting_reviews(store, 500)
    problems: list[str] = []
    with live_server(app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        assert page.inner_text("#reviews-shown") == "1–25 of 500"
        assert page.locator("#review-queue tbody tr").count() == 25

        page.click("nav.pager[data-table=reviews] >> nth=0 >> a:has-text('next')")
        page.wait_for_selector("#reviews-shown:has-text('26–50 of 500')")
        assert "reviews.page=2" in page.url
        assert page.inner_text("#review-queue tbody tr:first-child td:nth-child(2)") == "zendesk #5025"

        page.select_option("form.filters[data-table=reviews] select[name='reviews.helpdesk']", "freshdesk")
        page.wait_for_selector("#reviews-shown:has-text('matching')")  # the choice applies at once
        assert page.inner_text("#reviews-shown") == "1–25 of 125 matching (500 in all)"
        assert "reviews.page" not in page.url  # a new filter starts at page 1

        page.fill("form.filters[data-table=reviews] input[type=search]", "wrong size")
        page.press("form.filters[data-table=reviews] input[type=search]", "Enter")
        page.wait_for_selector("#reviews-shown:has-text('of 25 matching')")  # freshdesk and "wrong size": i % 20 == 3
        assert page.inner_text("#reviews-shown") == "1–25 of 25 matching (500 in all)"
        page.locator("#reviews").scroll_into_view_if_needed()
        screenshot(page, f"admin-reviews-filtered-{request.node.callspec.id}")

        before = int(page.get_attribute("body", "data-refreshes") or 0)
        page.evaluate("window.triageRefresh()")  # the 15 s refresh, now: it keeps the filter
        page.wait_for_selector(f"body[data-refreshes='{before + 1}']")
        assert page.inner_text("#reviews-shown") == "1–25 of 25 matching (500 in all)"
        assert page.input_value("form.filters[data-table=reviews] input[type=search]") == "wrong size"

        page.click("form.filters[data-table=reviews] a.clear-filters")
        page.wait_for_selector("#reviews-shown:has-text('1–25 of 500')")
    assert not problems, problems


def test_the_ticket_link_opens_the_helpdesk_in_a_new_tab_in_chromium(app, store, tmp_path, request):
    seed_waiting_reviews(store, 4)
    problems: list[str] = []
    with live_server(app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        link = page.locator("#review-queue a.ticket-link", has_text="freshdesk #5003")
        assert link.get_attribute("href") == "https://acme-support.freshdesk.com/a/tickets/5003"
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
        zendesk = page.locator("#review-queue a.ticket-link", has_text="zendesk #5000")
        assert zendesk.get_attribute("href") == "https://acme.zendesk.com/agent/tickets/5000"
        page.locator("#reviews").scroll_into_view_if_needed()
        screenshot(page, f"admin-reviews-ticket-links-{request.node.callspec.id}")
    assert not problems, problems


def test_after_routing_a_ticket_the_page_comes_back_to_the_same_view(make_app, store):
    seed_waiting_reviews(store, 40)
    app = make_app(triage_admin_token=ADMIN_TOKEN)
    client = logged_in(app)
    part = reviews_part(client, "?reviews.page=2&reviews.helpdesk=zendesk")
    assert shown(part) == "26–30 of 30 matching (40 in all)"
    csrf = part.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = part.split('<form method="post"', 1)[1].split("</form>", 1)[0]
    review_id = re.search(r"/admin/reviews/(\d+)/route", form).group(1)
    kept = dict(re.findall(r'<input type="hidden" name="(reviews\.[a-z]+)" value="([^"]*)">', form))
    assert kept == {"reviews.helpdesk": "zendesk", "reviews.page": "2"}
    response = client.post(f"/admin/reviews/{review_id}/route",
                           data={"category": "REFUNDS", "csrf": csrf, **kept, "dropped": "1", "x": "y"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.endswith("#reviews") and f"routed={review_id}" in location
    assert "reviews.page=2" in location and "reviews.helpdesk=zendesk" in location
    assert "dropped" not in location and "x=y" not in location  # only the tables' state comes back
    back = reviews_part(client, location.split("/admin", 1)[1].replace("/?", "?", 1))
    assert shown(back) == "26–29 of 29 matching (39 in all)"  # the same view, less the routed ticket
