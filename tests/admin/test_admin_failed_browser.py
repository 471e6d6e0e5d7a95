"""Failed items in real headless Chromium (issue 21): a failed correction is listed with its reason and a link to the
ticket, retried from the page and written to the (fake) Zendesk; then a bulk retry through its confirmation page.
No script error, no CSP violation. Screenshots go to `test-artifacts/`."""
from __future__ import annotations

from admin_seed import ADMIN_TOKEN, log_in
from browser import browser_page, live_server, screenshot
from failed_seed import dead_lettered_route, failed_correction, state_of, zendesk_settings
from polling import wait_until
from store.models import AuditEntry, Delivery, WriteBack


def test_a_failed_correction_is_shown_and_retried_then_a_bulk_retry(make_app, store, seeded, fake_zendesk, tmp_path,
                                                                    request):
    name = request.node.callspec.id
    for ticket in (4242, 4243):
        fake_zendesk.add_ticket(ticket)
    app = make_app(triage_admin_token=ADMIN_TOKEN, **zendesk_settings(fake_zendesk, zendesk_subdomain="acme"))
    lone = failed_correction(store, "4242", category="REFUND", error="Conflict: zendesk answered 409 twice")
    other = failed_correction(store, "4243", category="SHIPPING")
    routes = [dead_lettered_route(store, str(4300 + n)) for n in range(2)]
    problems: list[str] = []
    with live_server(app) as base, browser_page(tmp_path / "profile") as page:
        log_in(page, base, problems)
        row = page.locator(f"#failed-w{lone}")
        assert row.is_visible()
        text = row.inner_text()
        assert "correction" in text and "REFUND" in text and "Conflict: zendesk answered 409 twice" in text
        link = row.locator("a.ticket-link")
        assert link.get_attribute("href") == "https://acme.zendesk.com/agent/tickets/4242"
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel").split()
        assert page.inner_text("#backlog-failed") == "5"  # the seed's failed route, 2 corrections, 2 routes
        page.locator("#failed").scroll_into_view_if_needed()
        screenshot(page, f"admin-failed-correction-{name}")

        page.click(f"button.retry[data-write-back='{lone}']")
        page.wait_for_selector("#retried")
        wait_until(lambda: state_of(store, WriteBack, lone) == "done")
        page.reload()
        page.wait_for_selector("body[data-drawn]")
        assert "the correction was retried. Written to Zendesk." in page.inner_text("#retried")
        assert page.locator(f"#failed-w{lone}").count() == 0
        screenshot(page, f"admin-failed-correction-retried-{name}")

        for key in (f"d{routes[0]}", f"d{routes[1]}", f"w{other}"):
            page.check(f"#failed-{key} input.pick")
        page.click("#bulk-retry-selected")
        page.wait_for_selector("#confirm")
        assert page.inner_text("#confirm h1") == "Retry 3 failed items?"
        assert page.locator("#confirm-items tbody tr").count() == 3
        screenshot(page, f"admin-bulk-retry-confirm-{name}")
        page.click("#confirm-button")
        page.wait_for_selector("#retried")
        assert page.inner_text("#retried").startswith("Retried 3 failed items:")
        wait_until(lambda: state_of(store, WriteBack, other) == "done")
        assert [state_of(store, Delivery, d) for d in routes] == ["routed", "routed"]  # where they stopped
        for key in (f"d{routes[0]}", f"d{routes[1]}", f"w{other}"):
            assert page.locator(f"#failed-{key}").count() == 0
        screenshot(page, f"admin-bulk-retried-{name}")

    assert [call.path for call in fake_zendesk.calls("PUT")] == ["/api/v2/tickets/4242.json",
                                                                 "/api/v2/tickets/4243.json"]
    with store.session() as session:
        entries = session.query(AuditEntry).filter(AuditEntry.action == "retry").all()
        assert sorted(e.target for e in entries) == sorted([f"write-back:{lone}", f"write-back:{other}",
                                                            f"delivery:{routes[0]}", f"delivery:{routes[1]}"])
        assert {e.actor for e in entries} == {"admin"}
    assert not problems, problems  # no script error, no Content-Security-Policy violation
