"""JSON that would exhaust Python's stack, and values the model cannot take, on both webhooks and the
predict API (issue 12): each is a 400 with the JSON error body, never a 5xx, and a refused delivery
stores nothing. On SQLite and PostgreSQL (`make_app`).
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from store.models import Delivery, TicketRecord
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

KEY = "hostile-predict-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
TICKET = {"ticket_id": "5150", "subject": "Refund", "description": "I want my money back"}


@pytest.fixture
def app(make_app):
    return make_app(triage_api_keys=[KEY])


def deeply_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def inside_a_ticket(depth: int) -> bytes:
    """A valid ticket whose one extra field nests `depth` deep: the parser would get it, the walk after not."""
    return json.dumps({**TICKET, "extra": "NESTED"}).encode().replace(b'"NESTED"', deeply_nested(depth))


def post_webhook(client, helpdesk: str, body: bytes):
    if helpdesk == "zendesk":
        signed = zendesk_signed_headers(ZENDESK_SECRET, body)
    else:
        signed = freshdesk_headers(FRESHDESK_SECRET)
    return client.post(f"/webhooks/{helpdesk}", data=body, headers={"Content-Type": "application/json", **signed})


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data()[:300]
    body = response.get_json()
    assert set(body) == {"error", "detail"} and body["error"] == code and body["detail"], body


def stored(app) -> tuple[int, int]:
    with app.extensions["triage"].store.session() as session:
        return (session.scalar(select(func.count()).select_from(Delivery)),
                session.scalar(select(func.count()).select_from(TicketRecord)))


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("body", [deeply_nested(1000), deeply_nested(100_000), b"[" * 50_000, inside_a_ticket(900),
                                  inside_a_ticket(65)], ids=["1000", "100000", "open", "ticket-900", "ticket-65"])
def test_deeply_nested_json_to_a_webhook_is_a_400_and_stores_nothing(app, helpdesk, body):
    refused(post_webhook(app.test_client(), helpdesk, body), 400, "malformed_payload")
    assert stored(app) == (0, 0)


def test_json_nested_as_deep_as_allowed_is_still_accepted(app):
    response = post_webhook(app.test_client(), "zendesk", inside_a_ticket(60))
    assert response.status_code == 202, response.get_data()
    assert stored(app) == (1, 1)


@pytest.mark.parametrize("body", [b'{"ticket_id": "5", "subject": NaN}', b'{"ticket_id": Infinity}', b"1" * 5000])
def test_what_python_reads_but_json_forbids_is_a_400(app, body):
    refused(post_webhook(app.test_client(), "zendesk", body), 400, "malformed_payload")
    assert stored(app) == (0, 0)


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
@pytest.mark.parametrize("body", [deeply_nested(1000), deeply_nested(100_000), b'{"subject": %s}' % deeply_nested(900),
                                  b'{"tickets": [%s]}' % deeply_nested(990)], ids=["1000", "100000", "field", "batch"])
def test_deeply_nested_json_to_predict_is_a_400(app, path, body):
    refused(app.test_client().post(path, data=body, headers={**AUTH, "Content-Type": "application/json"}),
            400, "invalid_json")


@pytest.mark.parametrize("created_at", ["9999-12-31", "0001-01-01", "1969-12-31T23:59:59", "2201-01-01T00:00:00Z",
                                        "9999-12-31T23:59:59-23:59", 9_999_999_999, -1])
def test_predict_refuses_a_creation_time_outside_1970_to_2200(app, created_at):
    client = app.test_client()
    ticket = {"subject": "Refund", "created_at": created_at}
    refused(client.post("/predict", json=ticket, headers=AUTH), 400, "invalid_request")
    refused(client.post("/predict/batch", json={"tickets": [{"subject": "x"}, ticket]}, headers=AUTH),
            400, "invalid_request")


@pytest.mark.parametrize("created_at", ["1970-01-01T00:00:00+05:00", "2200-12-31T23:59:59-12:00", "2024-02-29"])
def test_predict_accepts_the_edges_of_the_range(app, created_at):
    response = app.test_client().post("/predict", json={"subject": "Refund", "created_at": created_at}, headers=AUTH)
    assert response.status_code == 200, response.get_data()


def test_a_model_that_fails_on_an_input_is_a_400_not_a_500(app):
    """The model runs in the predict pool's child (api.predict_pool): there, it raises on every input."""
    from api.predict_pool import EXTENSION, PredictPool
    from predict_children import start_child_with_a_failing_model

    app.extensions[EXTENSION] = PredictPool(app.extensions["triage"].settings,
                                            initializer=start_child_with_a_failing_model)
    client = app.test_client()
    refused(client.post("/predict", json={"subject": "x"}, headers=AUTH), 400, "unclassifiable")
    refused(client.post("/predict/batch", json={"tickets": [{"subject": "x"}]}, headers=AUTH), 400, "unclassifiable")
