"""The admin page end to end in real headless Chromium (issue 13): log in, the figures drawn from the store
(accuracy only from confirmed tickets, with n), retry a dead letter, route a waiting ticket from the page and
see the page refresh in place, promote then roll back through the confirmation page. No CSP violation.

Screenshots go to `test-artifacts/` (or `$TRIAGE_TEST_ARTIFACTS`).
"""
from __future__ import annotations

from sqlalchemy import select

from admin_seed import ADMIN_TOKEN, SECRET_SUBJECT, add_registry_version, log_in
from browser import browser_page, live_server, screenshot
from classifier.registry import ModelRegistry
from store.models import Correction, Delivery, WriteBack

NON_BLANK_PIXELS = """id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return painted;
}"""


def refresh_in_place(page) -> None:
    """What the 15 s timer does, now: fetch data.json and redraw (the tests do not wait 15 s). Waited for with
    a selector: `wait_for_function` evaluates a string, which the page's Content-Security-Policy forbids."""
    before = page.evaluate("window.triageRefreshes || 0")
    page.evaluate("window.triageRefresh()")
    page.wait_for_selector(f"body[data-refreshes='{before + 1}']", state="attached")


def test_log_in_see_charts_and_retry_a_failed_delivery(admin_app, seeded, store, tmp_path, request):
    name = request.node.callspec.id
    problems: list[str] = []
    with live_server(admin_app) as base, browser_page(tmp_path / "profile") as page:
        requests_made: list[str] = []
        page.on("request", lambda r: requests_made.append(r.url))

        response = page.goto(f"{base}/admin")
        assert response.status == 401
        assert SECRET_SUBJECT not in page.content()
        page.fill("#token", "not-the-token")
        with page.expect_navigation() as navigation:
            page.click("#login")
        assert navigation.value.status == 401
        assert page.inner_text("#login-error") == "Wrong token."
        assert SECRET_SUBJECT not in page.content() and "broken one" not in page.content()
        screenshot(page, f"admin-wrong-token-{name}")

        log_in(page, base, problems)
        volume = page.evaluate("""() => {
          const chart = Chart.getChart('volume-chart');
          return Object.fromEntries(chart.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]));
        }""")
        assert volume == {"BILLING": 2, "REFUND": 5, "SHIPPING": 3}
        tiers = page.evaluate("() => Chart.getChart('accuracy-tier-chart').data.labels")
        assert tiers == ["free (n=2)", "gold (n=1)"]
        for canvas in ("volume-chart", "automation-chart", "accuracy-category-chart", "accuracy-language-chart",
                       "accuracy-tier-chart", "drift-chart"):
            assert page.evaluate(NON_BLANK_PIXELS, canvas) > 500, f"{canvas} was not drawn"
        assert page.inner_text("#automation-overall") == "60%"  # one automatic route failed: not automation
        assert SECRET_SUBJECT in page.inner_text("#reviews")
        assert "v-seeded" in page.inner_text("#models")
        assert "above 0.2 the model is seeing tickets unlike those it learned from" in page.inner_text("#drift")
        assert "2 h 0" in page.inner_text("#backlog-oldest") and page.inner_text("#backlog-reviews") == "1"
        drift = page.evaluate("""() => Object.fromEntries(Chart.getChart('drift-chart').data.datasets
                                   .map(d => [d.label, d.data]))""")
        assert drift == {"psi_category": [0.04, 0.09, 0.31], "psi_length": [0.04 / 3, 0.03, 0.31 / 3]}
        assert "category mix shifted" in page.inner_text("#drift-alerts")
        screenshot(page, f"admin-dashboard-{name}")

        failed_id = seeded["failed_id"]
        page.click(f"button.retry[data-delivery='{failed_id}']")
        page.wait_for_selector("#requeued")
        assert f"Delivery {failed_id} was requeued" in page.inner_text("#requeued")
        assert not page.is_visible(f"#failed-d{failed_id}")  # out of the failed items
        screenshot(page, f"admin-after-retry-{name}")

    with store.session() as session:
        delivery = session.get(Delivery, failed_id)
        assert (delivery.state, delivery.attempts) == ("routed", 0)  # back at the step where it stopped
    outside = [url for url in requests_made if not url.startswith(base)]
    assert not outside, f"the page fetched from outside the server: {outside}"
    assert not problems, problems  # no script error, no Content-Security-Policy violation


def test_the_accuracy_card_counts_only_confirmed_tickets_and_a_route_from_the_page(admin_app, seeded, store,
                                                                                  tmp_path, request):
    problems: list[str] = []
    with live_server(admin_app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        # 3 tickets a person judged (1 right); the 6 auto-routed tickets nobody looked at are not counted
        assert (page.inner_text("#accuracy-overall"), page.inner_text("#accuracy-n")) == ("33%", "n = 3")
        assert "6 auto-routed tickets nobody looked at are not counted" in page.inner_text("#accuracy")
        assert page.evaluate("() => Chart.getChart('accuracy-category-chart').data.labels") == [
            "REFUND (n=2)", "SHIPPING (n=1)"]

        form = f"form.route[data-review='{seeded['review_id']}']"
        assert page.inner_text(f"{form} select").startswith("BILLING (41%)")
        page.select_option(f"{form} select", "SHIPPING")
        assert page.inner_text(f"{form} .route-info") == "no group or assignee in the routing file: tags only"
        screenshot(page, f"admin-route-chosen-{request.node.callspec.id}")
        page.click(f"{form} button.route-button")
        page.wait_for_selector("#routed")
        assert "Zendesk ticket #108 routed to SHIPPING from this page." in page.inner_text("#routed")
        assert page.is_visible("#no-reviews")

        page.evaluate("window.stillTheSamePage = true")
        for _ in range(40):  # the helpdesk write runs after the answer: the notice follows it on each refresh
            refresh_in_place(page)
            if "Dry run" in page.inner_text("#routed"):
                break
            page.wait_for_timeout(250)
        assert page.evaluate("window.stillTheSamePage") is True  # refreshed in place, not reloaded
        assert "Dry run: nothing written to Zendesk" in page.inner_text("#routed")
        # the route is a person's verdict too: predicted BILLING, routed to SHIPPING
        assert (page.inner_text("#accuracy-overall"), page.inner_text("#accuracy-n")) == ("25%", "n = 4")
        screenshot(page, f"admin-after-route-{request.node.callspec.id}")

    with store.session() as session:
        correction = session.scalars(select(Correction).where(Correction.source == "admin")).one()
        assert (correction.user, correction.from_category, correction.to_category) == ("admin", "BILLING", "SHIPPING")
        write = session.scalars(select(WriteBack).where(WriteBack.kind == "correction")).one()
        assert (write.state, write.route["category"]) == ("done", "SHIPPING")
    assert not problems, problems


def test_promote_then_roll_back_through_the_confirmation_page(admin_app, seeded, tmp_path, request):
    models = tmp_path / "models"
    old, new = "20260101-000000-aaaaaa", "20260201-000000-bbbbbb"
    add_registry_version(models, old, {"accuracy": 0.81, "macro_f1": 0.8, "n": 900}, "2026-01-01T00:00:00")
    add_registry_version(models, new, {"accuracy": 0.93, "macro_f1": 0.91, "n": 1500}, "2026-02-01T00:00:00")
    registry = ModelRegistry(models)
    registry.promote(old)
    name, problems = request.node.callspec.id, []
    with live_server(admin_app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        page.click(f"a.promote[data-version='{new}']")
        page.wait_for_selector("#confirm")
        assert f"Promote {new}?" in page.inner_text("h1")
        metrics = page.inner_text("#confirm-metrics")
        assert "0.930" in metrics and "0.810" in metrics
        assert registry.current_version() == old  # nothing changed yet
        screenshot(page, f"admin-confirm-promote-{name}")
        page.click("#confirm-button")
        page.wait_for_selector("#promoted")
        assert registry.current_version() == new
        assert page.inner_text("#registry-current") == new

        page.click("#rollback-link")
        page.wait_for_selector("#confirm")
        assert f"Roll back from {new}?" in page.inner_text("h1")
        page.click("#cancel")  # changing one's mind changes nothing
        page.wait_for_selector("#models")
        assert registry.current_version() == new
        page.click("#rollback-link")
        page.click("#confirm-button")
        page.wait_for_selector("#rolled-back")
        assert registry.current_version() == old
        assert f"version {old} is current again" in page.inner_text("#rolled-back")
        screenshot(page, f"admin-after-rollback-{name}")
    assert not problems, problems
