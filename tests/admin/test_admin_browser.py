"""The admin page end to end in real headless Chromium: log in, see the store's data drawn, retry a failure.

Screenshots go to `test-artifacts/` (or `$TRIAGE_TEST_ARTIFACTS`).
"""
from __future__ import annotations

from admin_seed import ADMIN_TOKEN, SECRET_SUBJECT
from browser import browser_page, live_server, screenshot
from store.models import Delivery

NON_BLANK_PIXELS = """id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return painted;
}"""


def test_log_in_see_charts_and_retry_a_failed_delivery(admin_app, seeded, store, tmp_path, request):
    name = request.node.callspec.id
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

        page.fill("#token", ADMIN_TOKEN)
        page.click("#login")
        page.wait_for_function("window.triageCharts && window.triageCharts.volume")
        volume = page.evaluate("""() => {
          const chart = Chart.getChart('volume-chart');
          return Object.fromEntries(chart.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]));
        }""")
        assert volume == {"BILLING": 2, "REFUND": 5, "SHIPPING": 3}
        tiers = page.evaluate("() => Chart.getChart('accuracy-tier-chart').data.labels")
        assert tiers == ["free", "gold"]
        for canvas in ("volume-chart", "automation-chart", "accuracy-category-chart", "accuracy-language-chart",
                       "accuracy-tier-chart", "drift-chart"):
            assert page.evaluate(NON_BLANK_PIXELS, canvas) > 500, f"{canvas} was not drawn"
        assert page.inner_text("#automation-overall") == "70%"
        assert SECRET_SUBJECT in page.inner_text("#reviews")
        assert "v-seeded" in page.inner_text("#models")
        drift = page.evaluate("""() => Object.fromEntries(Chart.getChart('drift-chart').data.datasets
                                   .map(d => [d.label, d.data]))""")
        assert drift == {"psi_category": [0.04, 0.09, 0.31], "psi_length": [0.04 / 3, 0.03, 0.31 / 3]}
        assert "category mix shifted" in page.inner_text("#drift-alerts")
        screenshot(page, f"admin-dashboard-{name}")

        failed_id = seeded["failed_id"]
        page.click(f"button.retry[data-delivery='{failed_id}']")
        page.wait_for_selector("#requeued")
        assert f"Delivery {failed_id} was requeued" in page.inner_text("#requeued")
        assert page.is_visible("#no-failed")
        screenshot(page, f"admin-after-retry-{name}")

    with store.session() as session:
        delivery = session.get(Delivery, failed_id)
        assert (delivery.state, delivery.attempts) == ("routed", 0)  # back at the step where it stopped
    outside = [url for url in requests_made if not url.startswith(base)]
    assert not outside, f"the page fetched from outside the server: {outside}"
