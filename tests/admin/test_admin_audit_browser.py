"""In real headless Chromium (issue 21): an operator logs in with their own named token, routes a waiting review
ticket from the page, and finds the audit entry naming them in the audit section, then filters the trail by them.
Both stores; screenshots in test-artifacts/."""
from __future__ import annotations

from admin_seed import ADMIN_TOKEN, log_in
from browser import browser_page, live_server, screenshot

ANA, BO = "ana-browser-token-5c4d3e2f", "bo-browser-token-6a7b8c9d"


def test_a_page_correction_is_in_the_audit_section_naming_the_operator(make_app, seeded, tmp_path, request):
    app = make_app(triage_admin_token=ADMIN_TOKEN, triage_admin_tokens=f"ana:{ANA},bo:{BO}")
    name = request.node.callspec.id
    problems: list[str] = []
    with live_server(app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems, token=ANA)
        assert page.inner_text("#operator") == "ana" and page.is_visible("#no-audit")

        form = f"form.route[data-review='{seeded['review_id']}']"
        page.select_option(f"{form} select", "SHIPPING")
        page.click(f"{form} button.route-button")
        page.wait_for_selector("#routed")
        entry = page.locator("#audit-trail tr.audit-entry").first
        assert entry.locator("td.actor").inner_text() == "ana"
        assert entry.locator("td.action").inner_text() == "correction"
        assert entry.locator("td.target").inner_text() == "zendesk:108"
        assert "category: BILLING → SHIPPING" in entry.locator("td.changes").inner_text()
        assert page.inner_text("#audit-shown") == "1–1 of 1"
        page.locator("#audit").scroll_into_view_if_needed()
        screenshot(page, f"admin-audit-entry-{name}")

        page.select_option("#audit form.filters select[name='audit.actor']", "ana")
        page.select_option("#audit form.filters select[name='audit.action']", "correction")
        page.click("#audit form.filters button[type=submit]")
        page.wait_for_selector("body[data-drawn]")
        assert "audit.actor=ana" in page.url and page.inner_text("#audit-shown") == "1–1 of 1 matching (1 in all)"
        page.select_option("#audit form.filters select[name='audit.action']", "promote")
        page.click("#audit form.filters button[type=submit]")
        page.wait_for_selector("#no-matching-audit")
        screenshot(page, f"admin-audit-filtered-{name}")
    assert not problems, problems
