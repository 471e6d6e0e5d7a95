"""The predict API, health endpoints and the OpenAPI document, against the real bundled model."""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st

from api.openapi import openapi_document
from webhook_app import app_settings

KEY = "test-predict-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def app(make_app):
    return make_app(triage_api_keys=[KEY])


@pytest.fixture
def client(app):
    return app.test_client()


def test_one_ticket_gets_a_calibrated_prediction_with_its_reasons(client):
    response = client.post("/predict", json={"subject": "Refund", "body": "I want my money back for order 42"},
                           headers=AUTH)
    assert response.status_code == 200
    data = response.get_json()
    assert data["category"] == "REFUNDS"
    assert 0 < data["confidence"] <= 1
    assert abs(sum(data["probabilities"].values()) - 1) < 1e-3
    assert data["top_k"][0] == {"category": "REFUNDS", "confidence": data["confidence"]}
    assert data["explanation"] and data["model_version"]


def test_a_batch_answers_in_order(client):
    tickets = [{"subject": "refund my order"}, {"subject": "I forgot my account password"}, {"body": ""}]
    response = client.post("/predict/batch", json={"tickets": tickets}, headers=AUTH)
    assert response.status_code == 200
    categories = [p["category"] for p in response.get_json()["predictions"]]
    assert categories[:2] == ["REFUNDS", "ACCOUNT"] and len(categories) == 3


@pytest.mark.parametrize("headers, status", [({}, 401), ({"Authorization": "Bearer nope"}, 401),
                                             ({"Authorization": KEY}, 401)])
def test_a_missing_or_wrong_key_is_refused(client, headers, status):
    response = client.post("/predict", json={"subject": "x"}, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("body, where", [
    ({"subject": 5}, "subject"),
    ({"subject": "x", "colour": "red"}, "colour"),
    ({"tickets": []}, "tickets"),
    ({"tickets": [{"subject": "x"}] * 1001}, "tickets"),
])
def test_invalid_requests_say_what_is_wrong(client, body, where):
    path = "/predict/batch" if "tickets" in body else "/predict"
    response = client.post(path, json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.get_json()["detail"].startswith(where)


def test_the_predict_api_is_off_without_keys(store, tmp_path):
    from app import create_app

    app = create_app(app_settings(store.url, triage_model_dir=tmp_path / "m"), env_file=None)
    response = app.test_client().post("/predict", json={"subject": "x"}, headers=AUTH)
    assert (response.status_code, response.get_json()["error"]) == (404, "not_configured")
    app.extensions["triage"].close()


def test_health_and_readiness(client, app):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    app.extensions["triage"].queue.start()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"store": "ok", "model": "ok", "queue": "ok"}
    app.extensions["triage"].queue.stop()


def test_readiness_fails_when_the_queue_is_unreachable(store, tmp_path):
    from app import create_app

    app = create_app(app_settings(store.url, redis_url="redis://127.0.0.1:1/0", triage_model_dir=tmp_path / "m"),
                     env_file=None)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["queue"].startswith("failed")
    assert response.get_json()["checks"]["store"] == "ok"


def test_unknown_paths_and_methods_answer_json(client):
    assert client.get("/nope").get_json()["error"] == "not_found"
    assert client.get("/predict").status_code == 405
    assert client.get("/predict").get_json()["error"] == "method_not_allowed"


schema = schemathesis.openapi.from_dict(openapi_document("test"))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """One app for all generated cases (SQLite; the predict API does not touch the store)."""
    from app import create_app

    folder = tmp_path_factory.mktemp("fuzz")
    app = create_app(app_settings(f"sqlite:///{folder / 'triage.db'}", triage_api_keys=[KEY],
                                  triage_model_dir=folder / "m"), env_file=None)
    yield app
    app.extensions["triage"].close()


def test_the_served_openapi_document_is_the_one_fuzzed(client):
    assert client.get("/openapi.json").get_json()["paths"] == openapi_document("test")["paths"]


@pytest.mark.parametrize("operation", [result.ok() for result in schema.get_all_operations()],
                         ids=lambda operation: operation.label)
def test_no_generated_request_makes_the_api_answer_500(operation, fuzz_app):
    """One test id per operation (`schema.parametrize()` gives both the same id, which parallel runs count once)."""
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def answers_below_500(case):
        response = case.call(app=fuzz_app, headers=AUTH)
        assert response.status_code < 500, response.text

    answers_below_500()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=300), st.from_type(dict).map(lambda d: json.dumps(d, default=str).encode())))
def test_no_raw_body_makes_predict_answer_500(client, body):
    for path in ("/predict", "/predict/batch"):
        response = client.post(path, data=body, headers={**AUTH, "Content-Type": "application/json"})
        assert response.status_code in (200, 400), response.get_json()
