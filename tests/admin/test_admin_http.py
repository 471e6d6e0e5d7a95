"""`/admin` over HTTP: off without a token, 401 and no data without the right one, login, data, retry.
(The figures: test_admin_figures.py; the actions: test_admin_actions.py, test_admin_models.py.)"""
from __future__ import annotations

from sqlalchemy import select

from admin_seed import ADMIN_TOKEN, DRIFT_ALERT, SECRET_SUBJECT
from store.models import Delivery

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_without_a_token_setting_the_admin_page_is_off(make_app):
    app = make_app()
    for path in ("/admin", "/admin/static/vendor/chart.umd.min.js"):
        response = app.test_client().get(path, headers=BEARER)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_configured"


def test_no_or_wrong_token_gets_401_and_no_data(admin_app, seeded):
    client = admin_app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}):
        response = client.get("/admin", headers=headers)
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        assert SECRET_SUBJECT not in page and "broken one" not in page and "v-seeded" not in page
        if "Bearer" in headers.get("Authorization", ""):  # a script: JSON (issue 21)
            assert response.get_json()["error"] == "unauthorized"
        else:
            assert 'name="token"' in page  # the login form, nothing else
    refused = client.post("/admin/login", data={"token": "wrong-token"})
    assert refused.status_code == 401 and "Wrong token" in refused.get_data(as_text=True)
    assert "triage_admin=" not in refused.headers.get("Set-Cookie", "")
    assert client.post(f"/admin/deliveries/{seeded['failed_id']}/retry", headers={"Authorization": "Bearer nope"}) \
        .status_code == 401


def test_a_forged_cookie_is_refused(admin_app, seeded):
    client = admin_app.test_client()
    client.set_cookie("triage_admin", "ImFkbWluIg.forged.signature", path="/admin")
    assert client.get("/admin").status_code == 401


def test_bearer_shows_the_dashboard_with_the_stores_data(admin_app, seeded):
    response = admin_app.test_client().get("/admin", headers=BEARER)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert SECRET_SUBJECT in page  # the review queue
    assert "Unavailable: zendesk answered 503" in page and "req-failed" in page  # failed deliveries
    assert "Population Stability Index (PSI)</strong>: how much this week's mix differs" in page
    assert "v-seeded" in page and "0.912" in page  # model versions with metrics
    assert "current (bundled starter)" in page  # no registry version is current: the starter serves
    drift = page.split('id="drift"', 1)[1]
    assert DRIFT_ALERT in drift and "psi_category" in drift and "0.310" in drift and "language:de" in drift
    assert "0.040" not in drift  # the table shows the latest check; older ones are in the chart
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in page and " onclick=" not in page and " style=" not in page  # nothing inline


def test_login_sets_a_cookie_that_opens_the_page(admin_app, seeded):
    client = admin_app.test_client()
    response = client.post("/admin/login", data={"token": ADMIN_TOKEN})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and ADMIN_TOKEN not in cookie
    page = client.get("/admin").get_data(as_text=True)
    assert client.post("/admin/logout").status_code == 403  # without the form's CSRF token
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/admin/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/admin").status_code == 401


def test_retry_with_a_cookie_needs_the_forms_csrf_token(admin_app, seeded, store):
    client = admin_app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    failed_id = seeded["failed_id"]
    assert client.post(f"/admin/deliveries/{failed_id}/retry", data={"csrf": "forged"}).status_code == 403
    page = client.get("/admin").get_data(as_text=True)
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(f"/admin/deliveries/{failed_id}/retry", data={"csrf": csrf})
    assert response.status_code == 303 and f"requeued={failed_id}" in response.headers["Location"]
    with store.session() as session:
        delivery = session.get(Delivery, failed_id)
        assert (delivery.state, delivery.attempts, delivery.failed_step) == ("routed", 0, None)


def test_retry_with_bearer_answers_json_and_refuses_a_delivery_that_is_not_failed(admin_app, seeded, store):
    client = admin_app.test_client()
    response = client.post(f"/admin/deliveries/{seeded['failed_id']}/retry", headers=BEARER)
    assert response.get_json() == {"status": "requeued", "delivery_id": seeded["failed_id"]}
    again = client.post(f"/admin/deliveries/{seeded['failed_id']}/retry", headers=BEARER)
    assert again.status_code == 409 and again.get_json()["error"] == "not_failed"
    with store.session() as session:
        assert session.scalar(select(Delivery.state).where(Delivery.id == seeded["failed_id"])) == "routed"


def test_the_drift_panel_says_plainly_when_no_check_has_run(admin_app):
    page = admin_app.test_client().get("/admin", headers=BEARER).get_data(as_text=True)
    assert "No drift data yet: the drift check has not run." in page


def test_model_metrics_are_read_from_a_manifests_holdout_figures():
    from admin.tables import pick_metrics

    manifest = {"holdout_20pct_before_refit": {"n": 5901, "accuracy": 0.99, "macro_f1": 0.98, "conformal": {}},
                "training": {"train_seconds": 309.2}}
    assert pick_metrics(manifest) == {"n": 5901, "accuracy": 0.99, "macro_f1": 0.98}
    assert pick_metrics({"accuracy": 0.9, "ece": 0.02}) == {"accuracy": 0.9, "ece": 0.02}
