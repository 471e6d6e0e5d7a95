"""The admin page's retry action with ids no delivery can have (issue 12): zero, negative, beyond the id
column, not digits at all. Each is a 404 with the JSON error body, never a database error, and changes
nothing. On SQLite and PostgreSQL (`make_app`).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_seed import ADMIN_TOKEN, seed
from store.models import Delivery

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NO_SUCH_IDS = ["0", "-1", "00", "007", "1.5", "1e3", "abc", "%20", "%00", "%D9%A1", "99999999999999999999",
               "2147483648", "9223372036854775808", "9" * 5000, "999"]


def states(store) -> list[str]:
    with store.session() as session:
        return list(session.scalars(select(Delivery.state).order_by(Delivery.id)))


@pytest.mark.parametrize("written_id", NO_SUCH_IDS, ids=lambda text: text[:24])
def test_retry_of_an_id_no_delivery_has_is_a_json_404(make_app, store, written_id):
    app = make_app(triage_admin_token=ADMIN_TOKEN)
    seed(store)
    before = states(store)
    response = app.test_client().post(f"/admin/deliveries/{written_id}/retry", headers=BEARER)
    assert response.status_code == 404, response.get_data()[:300]
    body = response.get_json()
    assert set(body) == {"error", "detail"} and body["error"] == "not_found" and len(body["detail"]) < 200
    assert states(store) == before


def test_the_retry_of_an_unknown_id_is_still_refused_without_the_token(make_app, store):
    app = make_app(triage_admin_token=ADMIN_TOKEN)
    response = app.test_client().post("/admin/deliveries/99999999999999999999/retry")
    assert response.status_code == 401  # the login form: who may ask is checked before what is asked


def test_a_real_failed_delivery_is_still_retried(make_app, store):
    app = make_app(triage_admin_token=ADMIN_TOKEN)
    failed_id = seed(store)["failed_id"]
    response = app.test_client().post(f"/admin/deliveries/{failed_id}/retry", headers=BEARER)
    assert response.get_json() == {"status": "requeued", "delivery_id": failed_id}
