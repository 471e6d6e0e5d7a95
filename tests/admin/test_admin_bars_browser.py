"""The accuracy bars in real headless Chromium (issue 21): a segment at 0% still has a visible bar, and every bar
says its figure. Screenshot in `test-artifacts/`."""
from __future__ import annotations

from admin_seed import log_in
from browser import browser_page, live_server, screenshot

BARS = """id => {
  const chart = Chart.getChart(id);
  return { labels: chart.data.labels, widths: chart.getDatasetMeta(0).data.map(bar => Math.abs(bar.x - bar.base)),
           said: chart.$barValues || [] };
}"""


def test_a_bar_at_zero_is_drawn_and_every_bar_says_its_figure(admin_app, seeded, tmp_path, request):
    problems: list[str] = []
    with live_server(admin_app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        tiers = page.evaluate(BARS, "accuracy-tier-chart")
        assert tiers["labels"] == ["free (n=2)", "gold (n=1)"]  # gold: its one judged ticket was wrong, 0%
        assert tiers["widths"][1] >= 3 and tiers["widths"][0] > tiers["widths"][1]
        assert tiers["said"] == ["50% (1 of 2)", "0% (0 of 1)"]
        categories = page.evaluate(BARS, "accuracy-category-chart")
        assert len(categories["said"]) == len(categories["labels"]) and all(w >= 3 for w in categories["widths"])
        page.locator("#accuracy").scroll_into_view_if_needed()
        screenshot(page, f"admin-accuracy-bars-{request.node.callspec.id}")
    assert problems == []
