"""Issue 12's cases on the other endpoints, written out: 3 `/slack/events` to anyone, 4 deep JSON and
5 far dates and hostile text in `/predict`, 6 admin retry with an id no row can have. All on PostgreSQL."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from fuzz_support import ADMIN_TOKEN, assert_answer_shape, nested, post_predict
from slack_interactions import SIGNING_SECRET, signed_headers


@pytest.fixture
def predict_client(api_app):
    return api_app.test_client()


@pytest.mark.parametrize("path", ["/predict", "/predict/batch"])
@pytest.mark.parametrize("raw", [nested(1000), b'{"subject": ' + nested(1000) + b"}",
                                 b'{"a":' * 1000 + b"1" + b"}" * 1000, b'{"tickets": [{"tags": ' + nested(5000) + b"}]}"],
                         ids=["array", "in a field", "objects", "in a batch"])
def test_4_predict_refuses_deep_json_with_400(predict_client, path, raw):
    assert_answer_shape(post_predict(predict_client, path, raw), {400})


# --- 5: far dates in /predict -----------------------------------------------------------------------

FAR_DATES = ["9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00",
             "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00+23:59", "0001-01-01"]


@pytest.mark.parametrize("created_at", FAR_DATES)
def test_5_predict_answers_a_far_date_without_a_server_error(predict_client, created_at):
    ticket = {"subject": "Refund", "body": "money back", "created_at": created_at}
    assert_answer_shape(post_predict(predict_client, "/predict", json.dumps(ticket).encode()), {200, 400})
    batch = json.dumps({"tickets": [ticket, {"subject": "x"}]}).encode()
    assert_answer_shape(post_predict(predict_client, "/predict/batch", batch), {200, 400})


@pytest.mark.parametrize("ticket", [{"subject": "a\x00b", "body": "\x00"}, {"subject": "\ud800"},
                                    {"subject": "x" * 10_000, "body": "y" * 500_000}, {"tags": ["\udfff"] * 200}],
                         ids=["NUL", "lone surrogate", "at the caps", "surrogate tags"])
def test_5_predict_answers_hostile_text_without_a_server_error(predict_client, ticket):
    assert_answer_shape(post_predict(predict_client, "/predict", json.dumps(ticket).encode()), {200, 400})


# --- 6: admin retry with an id no row can have ----------------------------------------------------------

@pytest.mark.parametrize("delivery_id", [str(2**31), str(2**63), str(10**20), "9" * 40, "0", "00", "1" * 400])
def test_6_admin_retry_of_an_id_beyond_the_column_is_not_a_server_error(api_app, delivery_id):
    client = api_app.test_client()
    response = client.post(f"/admin/deliveries/{delivery_id}/retry", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert_answer_shape(response, {400, 404, 409})


# --- 3: /slack/events to anyone -------------------------------------------------------------------------

@pytest.mark.parametrize("timestamp", ["abc", "", " ", "1e3", "12.5", "0x1F", "١٧٠٠٠٠٠٠٠٠", "9" * 40])
def test_3_a_non_numeric_slack_timestamp_gets_401(slack_client, timestamp):
    from slack_sdk.signature import SignatureVerifier

    body = "payload=" + quote(json.dumps({"type": "block_actions", "actions": []}))
    headers = signed_headers(body)
    headers["X-Slack-Request-Timestamp"] = timestamp
    headers["X-Slack-Signature"] = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    assert_answer_shape(slack_client.post("/slack/events", data=body, headers=headers), {401})


SLACK_JUNK = {
    "payload not JSON": ("application/x-www-form-urlencoded", "payload=not-json"),
    "payload a list": ("application/x-www-form-urlencoded", "payload=%5B%5D"),
    "payload a number": ("application/x-www-form-urlencoded", "payload=1"),
    "payload nested 1,000 deep": ("application/x-www-form-urlencoded", "payload=" + "%5B" * 1000 + "%5D" * 1000),
    "block_actions with junk fields": ("application/x-www-form-urlencoded", "payload=" + quote(json.dumps(
        {"type": "block_actions", "actions": "x", "user": 5}))),
    "block_actions with a junk action": ("application/x-www-form-urlencoded", "payload=" + quote(json.dumps(
        {"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": [{"action_id": "triage_route_1",
                                                                          "block_id": 7}]}))),
    "JSON body a list": ("application/json", "[1]"),
    "JSON body nested 1,000 deep": ("application/json", "[" * 1000 + "]" * 1000),
    "event_callback with junk event": ("application/json", json.dumps({"type": "event_callback", "event": 5})),
    "url_verification with junk challenge": ("application/json", json.dumps({"type": "url_verification",
                                                                              "challenge": {"a": [1]}})),
}


@pytest.mark.parametrize("content_type, body", SLACK_JUNK.values(), ids=SLACK_JUNK.keys())
def test_3_a_signed_malformed_slack_request_is_not_a_server_error(slack_client, content_type, body):
    headers = {**signed_headers(body), "Content-Type": content_type}
    assert_answer_shape(slack_client.post("/slack/events", data=body, headers=headers), {200, 400, 404})
