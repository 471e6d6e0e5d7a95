"""Nothing that failed is hidden (issue 21, failures 1-3): a failed correction from the page is listed, said truthfully
and retried; dead-lettered routes are failed (not "not yet written", not "pending"), a dropped delivery's route is
dropped, and a dropped delivery leaves the latency figures. The failed-items table pages, filters and searches on
the server; bulk retry and drop need the CSRF token and a confirmation; each action is in the audit trail. Both
stores, over HTTP."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from admin_seed import ADMIN_TOKEN
from failed_seed import dead_lettered_route, failed_correction, state_of, zendesk_settings
from polling import wait_until
from store.models import AuditEntry, Delivery, WriteBack
from store.types import utcnow

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def logged_in(app):
    client = app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    page = client.get("/admin").get_data(as_text=True)
    return client, page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def section(page: str, name: str) -> str:
    return page.split(f'<section class="card" id="{name}">', 1)[1].split("</section>", 1)[0]


def figure(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page).group(1).strip()


def correction_write(store) -> WriteBack:
    with store.session() as session:
        return session.scalars(select(WriteBack).where(WriteBack.kind == "correction")
                               .order_by(WriteBack.id.desc())).first()


def audit_entries(store, action: str) -> list[AuditEntry]:
    with store.session() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def test_failure_1_a_failed_correction_from_the_page_is_listed_said_truly_and_retried(make_app, store, seeded,
                                                                                        fake_zendesk):
    """The operator routes a ticket from the page; its write-back fails twice (the attempts run out). It must
    show among the failed items with its reason, the figures must say failed, the notice must not promise a
    retry, and Retry on the page writes it."""
    fake_zendesk.add_ticket(108)
    app = make_app(triage_admin_token=ADMIN_TOKEN, triage_max_attempts=2, **zendesk_settings(fake_zendesk))
    client, csrf = logged_in(app)
    fake_zendesk.fail(409, count=6, method="PUT")  # three conflicts per attempt, two attempts
    routed = client.post(f"/admin/reviews/{seeded['review_id']}/route", data={"category": "REFUND", "csrf": csrf})
    assert routed.status_code == 303
    wait_until(lambda: correction_write(store).attempts == 1)
    first = client.get(routed.headers["Location"]).get_data(as_text=True)
    assert "did not take it yet" in first and "when the clock&#39;s sweep writes it" in first
    assert "1 attempt left before it stops and waits under Failed items" in first
    with store.session() as session:  # the backoff is over: the clock's sweep runs it
        session.execute(update(WriteBack).where(WriteBack.kind == "correction").values(next_try_at=utcnow()))
    from integrations.corrections import sweep_corrections

    assert sweep_corrections(app.extensions["triage"]) == 0
    write = correction_write(store)
    assert (write.state, write.attempts) == ("failed", 2) and write.last_error.startswith("Conflict")

    page = client.get(routed.headers["Location"]).get_data(as_text=True)
    notice = figure(page, "routed")
    assert "the clock tries again" not in notice and "due again" not in notice
    assert "Writing to Zendesk failed after 2 attempts: Conflict" in notice
    assert "Nothing retries it on its own: it waits under Failed items" in notice
    failed = section(page, "failed")
    row = failed.split(f'id="failed-w{write.id}"', 1)[1].split("</tr>", 1)[0]
    assert "correction" in row and "REFUND" in row and "zendesk #108" in row and "Conflict" in row
    backlog = section(page, "backlog")
    assert figure(backlog, "backlog-failed") == "2" and "routes 1 · corrections 1" in backlog  # the seed's route too
    assert figure(backlog, "backlog-pending") == "0"

    retried = client.post(f"/admin/write-backs/{write.id}/retry", data={"csrf": csrf})
    assert retried.status_code == 303 and f"retried=w{write.id}" in retried.headers["Location"]
    wait_until(lambda: state_of(store, WriteBack, write.id) == "done")
    after = client.get(retried.headers["Location"]).get_data(as_text=True)
    assert f'id="failed-w{write.id}"' not in after
    assert "the correction was retried. Written to Zendesk." in figure(after, "retried")
    (entry,) = audit_entries(store, "retry")
    assert (entry.actor, entry.target, entry.before["state"], entry.after["state"]) == \
        ("admin", f"write-back:{write.id}", "failed", "pending")
    assert entry.before["error"].startswith("Conflict") and entry.before["ticket"] == "zendesk:108"


def test_failure_1_dropping_a_failed_correction_and_409_for_one_not_failed(admin_app, store, seeded):
    client, csrf = logged_in(admin_app)
    write_id = failed_correction(store, "5001")
    assert client.post(f"/admin/write-backs/{write_id}/drop", data={"csrf": "forged"}).status_code == 403
    dropped = client.post(f"/admin/write-backs/{write_id}/drop", data={"csrf": csrf})
    assert dropped.status_code == 303 and f"gave_up=w{write_id}" in dropped.headers["Location"]
    assert state_of(store, WriteBack, write_id) == "dropped"
    page = client.get(dropped.headers["Location"]).get_data(as_text=True)
    assert f'id="failed-w{write_id}"' not in page and "Dropped 1 failed item" in page
    for action in ("retry", "drop"):
        again = client.post(f"/admin/write-backs/{write_id}/{action}", headers=BEARER)
        assert again.status_code == 409 and again.get_json()["error"] == "not_failed"
    for written in ("0", "abc", "99999999999"):
        missing = client.post(f"/admin/write-backs/{written}/retry", headers=BEARER)
        assert missing.status_code == 404 and set(missing.get_json()) == {"error", "detail"}
    (entry,) = audit_entries(store, "drop")
    assert (entry.target, entry.before["state"], entry.after["state"]) == (f"write-back:{write_id}", "failed", "dropped")
    listed = client.get("/admin?failed.state=dropped").get_data(as_text=True)
    assert f'id="failed-w{write_id}"' in section(listed, "failed")


def test_failure_2_dead_lettered_routes_count_as_failed_and_a_dropped_ones_route_is_dropped(admin_app, store, seeded):
    """With dead-lettered automatic routes the card said "not yet written (n)" and "Write-backs pending n"."""
    delivery_ids = [dead_lettered_route(store, str(7000 + n)) for n in range(3)]
    page = admin_app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    automation = figure(page, "automation-explained") + page.split('id="automation-explained"', 1)[1][:600]
    assert "routes that failed (4) or are not yet written (0)" in automation  # the seed's one, and these 3
    backlog = section(page, "backlog")
    assert figure(backlog, "backlog-pending") == "0" and "routes 0 · corrections 0" in backlog
    assert figure(backlog, "backlog-failed") == "4" and "routes 4 · corrections 0" in backlog
    failed = section(page, "failed")
    for delivery_id in delivery_ids:  # a permanent error: the clock's retry of dead letters skips it, and says so
        row = failed.split(f'id="failed-d{delivery_id}" data-kind="route"', 1)[1].split("</tr>", 1)[0]
        assert '<td class="automatic">no</td>' in row
    transient = failed.split(f'id="failed-d{seeded["failed_id"]}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="automatic">every 60 min until ' in transient  # a 503: the clock retries it for a day

    client, csrf = logged_in(admin_app)
    assert client.post(f"/admin/deliveries/{delivery_ids[0]}/drop", data={"csrf": csrf}).status_code == 303
    with store.session() as session:
        route = session.scalar(select(WriteBack).where(WriteBack.delivery_id == delivery_ids[0]))
        assert (route.kind, route.state) == ("route", "dropped")
    page = client.get("/admin").get_data(as_text=True)
    assert "routes that failed (3) or are not yet written (0)" in page
    assert "1 automatic route was dropped by an operator and never written." in page
    assert figure(section(page, "backlog"), "backlog-failed") == "3"

    assert client.post(f"/admin/deliveries/{delivery_ids[1]}/retry", data={"csrf": csrf}).status_code == 303
    with store.session() as session:  # requeued: its route is pending again, and so counted
        assert session.scalar(select(WriteBack.state).where(WriteBack.delivery_id == delivery_ids[1])) == "pending"
    page = client.get("/admin").get_data(as_text=True)
    assert "routes that failed (2) or are not yet written (1)" in page
    assert figure(section(page, "backlog"), "backlog-pending") == "1"


def test_failure_3_a_dropped_delivery_leaves_the_latency_figures(admin_app, store, seeded):
    """Received -> done p99 showed 123 s because a dropped delivery's wait was counted."""
    slow = dead_lettered_route(store, "7100", age=timedelta(seconds=123))
    client, csrf = logged_in(admin_app)
    assert client.post(f"/admin/deliveries/{slow}/drop", data={"csrf": csrf}).status_code == 303
    page = client.get("/admin").get_data(as_text=True)
    latency = section(page, "backlog").split('id="latency-end_to_end_ms"', 1)[1].split("</div>", 1)[0]
    assert "2 tickets" in latency  # the seed's two finished today (9 s and 10 s), not the dropped one
    assert "p99 10.0 s" in latency, latency


def test_bulk_retry_and_drop_need_the_csrf_token_and_a_confirmation(admin_app, store, seeded):
    client, csrf = logged_in(admin_app)
    routes = [dead_lettered_route(store, str(7200 + n)) for n in range(2)]
    writes = [failed_correction(store, str(7300 + n)) for n in range(2)]
    items = [f"d{routes[0]}", f"w{writes[0]}", f"w{writes[1]}"]
    form = {"action": "retry", "scope": "selected", "item": items}
    assert client.post("/admin/failed/bulk", data=form).status_code == 403
    assert client.post("/admin/failed/bulk", data={**form, "csrf": "forged", "confirm": "1"}).status_code == 403
    confirm = client.post("/admin/failed/bulk", data={**form, "csrf": csrf})
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Retry 3 failed items?" in text and 'name="confirm" value="1"' in text
    for key in items:
        assert f'id="confirm-{key}"' in text and f'name="item" value="{key}"' in text
    assert state_of(store, Delivery, routes[0]) == "failed"  # the first step changes nothing
    assert {state_of(store, WriteBack, w) for w in writes} == {"failed"}

    done = client.post("/admin/failed/bulk", data={**form, "csrf": csrf, "confirm": "1"})
    assert done.status_code == 303 and "retried=" in done.headers["Location"]
    assert state_of(store, Delivery, routes[0]) == "routed"  # at the step where it stopped
    assert state_of(store, Delivery, routes[1]) == "failed"  # not chosen
    wait_until(lambda: {state_of(store, WriteBack, w) for w in writes} == {"done"})  # dry run: no credentials
    notice = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Retried 3 failed items:" in notice
    assert sorted(e.target for e in audit_entries(store, "retry")) == sorted(
        [f"delivery:{routes[0]}", f"write-back:{writes[0]}", f"write-back:{writes[1]}"])

    drop = {"action": "drop", "scope": "selected", "item": [f"d{routes[1]}"]}
    as_script = client.post("/admin/failed/bulk", data=drop, headers=BEARER)
    assert as_script.status_code == 400 and as_script.get_json()["error"] == "confirm_required"
    assert state_of(store, Delivery, routes[1]) == "failed"
    as_script = client.post("/admin/failed/bulk", data={**drop, "confirm": "1"}, headers=BEARER)
    assert as_script.get_json() == {"status": "dropped", "items": [f"d{routes[1]}"], "not_failed": []}
    assert state_of(store, Delivery, routes[1]) == "dropped"
    bad = client.post("/admin/failed/bulk", data={**drop, "item": ["x1"], "confirm": "1"}, headers=BEARER)
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_item"
    assert client.post("/admin/failed/bulk", data={"action": "explode", "csrf": csrf}).status_code == 400


def test_bulk_drop_of_all_matching_the_filter_takes_only_those(admin_app, store, seeded):
    client, csrf = logged_in(admin_app)
    routes = [dead_lettered_route(store, str(7400 + n)) for n in range(3)]
    writes = [failed_correction(store, str(7500 + n), helpdesk="freshdesk") for n in range(2)]
    form = {"action": "drop", "scope": "matching", "failed.kind": "correction", "failed.helpdesk": "freshdesk",
            "csrf": csrf}
    confirm = client.post("/admin/failed/bulk", data=form).get_data(as_text=True)
    assert "Drop 2 failed items?" in confirm
    assert all(f'value="w{w}"' in confirm for w in writes) and not any(f'value="d{d}"' in confirm for d in routes)
    done = client.post("/admin/failed/bulk", data={**form, "confirm": "1", "item": [f"w{w}" for w in writes],
                                                   "scope": "selected"})
    assert done.status_code == 303 and "failed.kind=correction" in done.headers["Location"]
    assert {state_of(store, WriteBack, w) for w in writes} == {"dropped"}
    assert {state_of(store, Delivery, d) for d in routes} == {"failed"}
    assert len(audit_entries(store, "drop")) == 2


def test_the_failed_items_page_filter_and_search_on_the_server(make_app, store, seeded, fake_zendesk):
    app = make_app(triage_admin_token=ADMIN_TOKEN, **zendesk_settings(fake_zendesk, zendesk_subdomain="acme"))
    old = [dead_lettered_route(store, str(8000 + n), category="SHIPPING", age=timedelta(days=2)) for n in range(12)]
    new = [failed_correction(store, str(8100 + n), category="BILLING", helpdesk="freshdesk") for n in range(10)]
    special = dead_lettered_route(store, "8999", subject="Printer on fire in Lyon")
    client = app.test_client()

    def page(query: str) -> str:
        response = client.get(f"/admin?{query}", headers=BEARER)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return section(response.get_data(as_text=True), "failed")

    everything = page("failed.size=10")
    assert figure(everything, "failed-count") == "25"  # the seed's 2, and 23 here
    assert figure(everything, "failed-shown") == "1–10 of 25"
    assert everything.count('<tr id="failed-') == 10
    second = page("failed.size=10&failed.page=2")
    assert figure(second, "failed-shown") == "11–20 of 25"
    last = page("failed.size=10&failed.page=99")  # past the end: the last page
    assert figure(last, "failed-shown") == "21–25 of 25"

    corrections = page("failed.kind=correction&failed.size=50")
    assert figure(corrections, "failed-shown") == "1–10 of 10 matching (25 in all)"
    assert all(f'id="failed-w{w}"' in corrections for w in new) and f'id="failed-d{old[0]}"' not in corrections
    assert figure(page("failed.helpdesk=freshdesk"), "failed-shown").startswith("1–10 of 10 matching")
    assert figure(page("failed.category=SHIPPING&failed.size=50"), "failed-shown") == "1–12 of 12 matching (25 in all)"
    assert figure(page("failed.age=1d&failed.size=50"), "failed-shown") == "1–12 of 12 matching (25 in all)"
    searched = page("failed.q=printer+on+fire")
    assert figure(searched, "failed-shown") == "1–1 of 1 matching (25 in all)" and f'failed-d{special}' in searched
    assert f'failed-d{special}' in page("failed.q=%238999")  # by ticket id
    assert "No failed item matches" in page("failed.q=nothing+like+this")

    row = everything.split(f'id="failed-d{old[0]}"', 1)[1].split("</tr>", 1)[0]
    link = re.search(r'<a class="ticket-link" href="([^"]+)" target="_blank" rel="([^"]+)"', row)
    assert link.group(1) == "https://acme.zendesk.com/agent/tickets/8000" and "noopener" in link.group(2).split()
    freshdesk_row = corrections.split(f'id="failed-w{new[0]}"', 1)[1].split("</tr>", 1)[0]
    assert "ticket-link" not in freshdesk_row  # no FRESHDESK_DOMAIN: no link rather than a wrong one

    refused = client.get("/admin?failed.kind=nope", headers=BEARER)
    assert refused.status_code == 400 and refused.get_json()["error"] == "bad_query"
    browser, _ = logged_in(app)  # a browser gets the defaults for a value it could not have meant
    assert browser.get("/admin?failed.kind=nope&failed.page=-3").status_code == 200
