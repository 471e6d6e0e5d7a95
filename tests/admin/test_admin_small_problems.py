"""Issue 21's smaller problems, over HTTP on both stores: what each model status means (retired too), the starter's
figures said to be its own, the tier of a ticket without an organization, a stale form in a browser, a wrong bearer."""
from __future__ import annotations

import html
import json
from datetime import timedelta

from admin_seed import ADMIN_TOKEN
from store.models import Correction, ModelVersion, PredictionRecord, TicketRecord
from store.types import utcnow

BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STARTER_VERSION = json.loads((__import__("admin_seed").REPO / "models" / "starter" / "manifest.json")
                             .read_text())["version"]


def models_part(client) -> str:
    return html.unescape(client.get("/admin/data.json", headers=BEARER).get_json()["sections"]["models"])


def test_each_status_is_explained_retired_too(admin_app, store):
    with store.session() as session:
        session.add(ModelVersion(version="v-old", path="models/versions/v-old", status="retired", metrics={}))
    part = models_part(admin_app.test_client())
    row = part.split('id="model-v-old"', 1)[1].split("</tr>", 1)[0]
    assert '<td title="was current, replaced by a later promotion or a roll back' in row and ">retired</td>" in row
    legend = part.split('id="model-statuses"', 1)[1].split("</details>", 1)[0]
    for status in ("current", "previous", "retired", "available", "rejected", "candidate", "broken"):
        assert f"<dt>{status}</dt>" in legend


def test_the_starters_figures_say_they_are_its_own_not_measured_on_your_tickets(admin_app):
    part = models_part(admin_app.test_client())  # no registry version: the bundled starter serves
    row = part.split(f'id="model-{STARTER_VERSION}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>1.000</td>" in row and "<td>5901</td>" in row  # its figures, as its manifest has them
    assert "The starter's own training figures" in row and "not on your tickets" in row


def test_a_ticket_without_an_organization_is_in_no_organization_not_unknown(admin_app, store):
    when = utcnow() - timedelta(hours=2)
    with store.session() as session:
        for n, organization in enumerate((None, "Acme", None)):
            ticket = TicketRecord(helpdesk="zendesk", external_id=f"t{n}", subject="s", body="b", received_at=when,
                                  organization=organization)
            session.add(ticket)
            session.flush()
            session.add(PredictionRecord(ticket_id=ticket.id, model_version="v1", category="REFUND", confidence=0.5,
                                         probabilities={}, decision="review", threshold=0.7, created_at=when))
            session.add(Correction(ticket_id=ticket.id, source="slack", user="U1", from_category="REFUND",
                                   to_category="REFUND", created_at=when))
    tiers = admin_app.test_client().get("/admin/data.json", headers=BEARER).get_json()["charts"]["accuracy"]["tier"]
    assert {row["key"]: row["judged"] for row in tiers} == {"Acme": 1, "no organization": 2}


def test_a_stale_form_in_a_browser_gets_a_page_that_links_back(admin_app, store):
    client = admin_app.test_client()
    client.post("/admin/login", data={"token": ADMIN_TOKEN})
    response = client.post("/admin/logout", data={"csrf": "from-a-page-open-before-the-last-log-in"})
    assert response.status_code == 403 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "This form has expired" in page and "Nothing was changed" in page
    assert 'href="/admin/" id="back-to-dashboard"' in page and "Content-Security-Policy" in response.headers
    assert client.get("/admin").status_code == 200  # still logged in: the form was refused, not the operator


def test_a_wrong_bearer_gets_json_401_not_the_login_page(admin_app, store):
    client = admin_app.test_client()
    for method, path in (("GET", "/admin"), ("GET", "/admin/data.json"), ("POST", "/admin/deliveries/1/retry")):
        response = client.open(path, method=method, headers={"Authorization": "Bearer not-the-token"})
        assert response.status_code == 401 and response.mimetype == "application/json"
        assert response.get_json() == {"error": "unauthorized", "detail": "the bearer token is not an admin token"}
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    browser = client.get("/admin")  # no header, no cookie: a browser, which gets the login form
    assert browser.status_code == 401 and 'name="token"' in browser.get_data(as_text=True)
