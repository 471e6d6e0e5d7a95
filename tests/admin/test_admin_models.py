"""Promote and roll back from the page (issue 13): a confirmation naming the version and its metrics, then
the registry's pointer moves (as `triage models promote|rollback`) and `model_versions` follows. Both stores."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_seed import ADMIN_TOKEN, add_registry_version
from classifier.registry import ModelRegistry
from store.models import ModelVersion

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
OLD, NEW = "20260101-000000-aaaaaa", "20260201-000000-bbbbbb"


@pytest.fixture
def registry(tmp_path, admin_app):
    models = tmp_path / "models"
    add_registry_version(models, OLD, {"accuracy": 0.81, "macro_f1": 0.8, "ece": 0.05, "n": 900}, "2026-01-01T00:00:00")
    add_registry_version(models, NEW, {"accuracy": 0.93, "macro_f1": 0.91, "ece": 0.02, "n": 1500},
                         "2026-02-01T00:00:00")
    registry = ModelRegistry(models, admin_app.extensions["triage"].settings.triage_starter_model)
    registry.promote(OLD)
    return registry


def logged_in(app):
    client = app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    page = client.get("/admin").get_data(as_text=True)
    return client, page, page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def statuses(store) -> dict:
    with store.session() as session:
        return {row.version: row.status for row in session.scalars(select(ModelVersion))}


def test_promote_asks_first_then_makes_the_version_current(admin_app, registry, store):
    client, page, csrf = logged_in(admin_app)
    assert f'href="/admin/models/{NEW}/promote"' in page and f'href="/admin/models/{OLD}/promote"' not in page
    confirm = client.get(f"/admin/models/{NEW}/promote")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and registry.current_version() == OLD  # asking changes nothing
    assert f"Promote <code>{NEW}</code>?" in text and "0.930" in text and "0.810" in text  # both versions' metrics
    assert f'name="current" value="{OLD}"' in text and 'name="csrf"' in text
    assert client.post(f"/admin/models/{NEW}/promote", data={"current": OLD}).status_code == 403  # no CSRF token
    assert client.post(f"/admin/models/{NEW}/promote", data={"csrf": csrf}).status_code == 400  # not confirmed
    response = client.post(f"/admin/models/{NEW}/promote", data={"csrf": csrf, "current": OLD})
    assert response.status_code == 303 and f"promoted={NEW}" in response.headers["Location"]
    assert registry.current_version() == NEW
    assert statuses(store)[NEW] == "current" and statuses(store)[OLD] != "current"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Version {NEW} is now current" in page and f'id="registry-current">{NEW}<' in page


def test_roll_back_asks_first_then_returns_to_the_previous_version(admin_app, registry, store):
    registry.promote(NEW)
    client, page, csrf = logged_in(admin_app)
    assert 'href="/admin/models/rollback"' in page
    text = client.get("/admin/models/rollback").get_data(as_text=True)
    assert f"Roll back from <code>{NEW}</code>?" in text and f"Roll back to {OLD}" in text and "0.910" in text
    response = client.post("/admin/models/rollback", data={"csrf": csrf, "current": NEW})
    assert response.status_code == 303 and f"rolled_back={OLD}" in response.headers["Location"]
    assert registry.current_version() == OLD and statuses(store)[OLD] == "current"
    # once more: back to the bundled starter model, then nothing is left to roll back
    assert client.post("/admin/models/rollback", headers=BEARER).get_json() == {"status": "rolled_back",
                                                                                "current": "starter"}
    assert registry.current_version() is None and "current" not in statuses(store).values()
    nothing = client.get("/admin/models/rollback")
    assert nothing.status_code == 409 and "nothing to roll back" in nothing.get_data(as_text=True)


def test_a_change_made_meanwhile_refuses_the_confirmed_action(admin_app, registry):
    client, _, csrf = logged_in(admin_app)
    registry.promote(NEW)  # someone else, after the confirmation page showed OLD as current
    refused = client.post("/admin/models/rollback", data={"csrf": csrf, "current": OLD})
    assert refused.status_code == 409 and "look again before you act" in refused.get_data(as_text=True)
    refused = client.post(f"/admin/models/{OLD}/promote", data={"csrf": csrf, "current": OLD})
    assert refused.status_code == 409 and registry.current_version() == NEW


def test_unknown_broken_and_hostile_versions(admin_app, registry, tmp_path):
    client = admin_app.test_client()
    for version in ("nope", "..", "a/../b", "x" * 65, "%00", ".hidden"):
        for method in (client.get, client.post):
            response = method(f"/admin/models/{version}/promote", headers=BEARER)
            assert response.status_code == 404 and response.get_json()["error"] == "not_found", version
    (tmp_path / "models" / "versions" / NEW / "model.joblib").write_bytes(b"junk")
    broken = client.post(f"/admin/models/{NEW}/promote", headers=BEARER)
    assert broken.status_code == 422 and "model.joblib" in broken.get_json()["detail"]
    assert registry.current_version() == OLD
