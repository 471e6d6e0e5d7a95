"""Issue 12's webhook cases, each written out: what the fuzzers found on main, kept as explicit examples.

Numbers refer to the issue's list: 1 long words stall masking, 2 PostgreSQL refusals on valid deliveries,
4 deep nesting, 9 request ids and chunked bodies (test_seeds_endpoints.py has 3, 5, 6 and `/predict`'s 4).
All on PostgreSQL.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import time

import pytest

from fuzz_support import (API_KEY, assert_answer_shape, assert_delivery_outcome, assert_nothing_stored,
                          empty_tables, nested, post_signed)
from helpdesk_signing import zendesk_signed_headers
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

MASK_BUDGET_SECONDS = 2.0  # linear masking of 1 MB takes well under 0.5 s; the quadratic one, hours
MASK_GIVE_UP_SECONDS = 20.0
MIB = 1024 * 1024

# --- 1: one long word stalls the Slack review message's masking ---------------------------------------

LONG_WORDS = {
    "body: one 40,000-letter word": ("Help", "a" * 40_000),
    "body: one 40,000-digit word": ("Help", "1" * 40_000),
    "body: 40,000 chars of a.a.a.": ("Help", "a." * 20_000),
    "body: 1 MB of one word": ("Help", "x" * 1_000_000),
    "body: 1 MB of words and digits": ("Help", "call 555 0199 or mail kim@example.com " * 26_000),
    "subject: 50,000 letters": ("s" * 50_000, "Help"),
    "subject: one 40,000-digit word": ("7" * 40_000, "Help"),
}


def _review_message_seconds(subject: str, body: str, pipe) -> None:
    from classifier.prediction import Prediction
    from classifier.ticket import Ticket
    from config.validation import load_settings
    from integrations.slack.messages import review_message

    settings = load_settings({"database_url": "sqlite://"}, env_file=None)
    prediction = Prediction(category="REFUNDS", confidence=0.4, probabilities={"REFUNDS": 0.4, "ORDER": 0.6},
                            explanation=["refund"], model_version="seed")
    started = time.perf_counter()
    message = review_message("42", "zendesk", Ticket(subject=subject, body=body), prediction, settings)
    pipe.send((time.perf_counter() - started, len(json.dumps(message))))


@pytest.mark.parametrize("subject, body", LONG_WORDS.values(), ids=LONG_WORDS.keys())
def test_1_a_review_message_of_any_ticket_is_built_in_linear_time(subject, body):
    """Run in a child process: a quadratic regex holds the GIL for hours and cannot be interrupted."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_review_message_seconds, args=(subject, body, send), daemon=True)
    child.start()
    ready = receive.poll(MASK_GIVE_UP_SECONDS)
    if not ready:
        child.kill()
        child.join()
        pytest.fail(f"review_message still running after {MASK_GIVE_UP_SECONDS:.0f} s")
    seconds, size = receive.recv()
    child.join()
    assert seconds < MASK_BUDGET_SECONDS, f"review_message took {seconds:.1f} s"
    assert size < 40_000, f"a review message of {size} bytes (Slack's text limits)"


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("subject, body", LONG_WORDS.values(), ids=LONG_WORDS.keys())
def test_1_a_ticket_of_long_words_is_accepted_and_stored(api_app, pg_store, helpdesk, subject, body):
    empty_tables(pg_store)
    response = post_signed(api_app.test_client(), helpdesk, json.dumps(
        {"ticket_id": "101", "subject": subject, "description": body}).encode())
    assert_answer_shape(response, {202})
    assert_delivery_outcome(pg_store, helpdesk, response, "101", subject)


# --- 2 and 4: valid deliveries PostgreSQL refused; deep nesting -----------------------------------------

def zendesk_event(**detail) -> dict:
    return {"type": "zen:event-type:ticket.created", "subject": "zen:ticket:5158",
            "detail": {"id": "5158", "subject": "Charged twice", "description": "Refund me", **detail}}


TRIGGER = {"event": "ticket.created", "ticket_id": "5158", "subject": "Charged twice", "description": "Refund me"}
SIMPLE = {"ticket_id": 5158, "ticket_subject": "Charged twice", "ticket_description": "Refund me",
          "triggered_event": "{ticket_action:created}"}
VALID = {
    "NUL in subject": {"subject": "a\x00b"},
    "NUL in body": {"description": "before\x00after"},
    "lone surrogate in subject": {"subject": "a\ud800b"},
    "lone surrogate in body": {"description": "\udfff"},
    "organization of 256": {"organization": "o" * 256},
    "organization of 300": {"organization": "o" * 300},
    "requester of 321": {"requester": "r" * 309 + "@example.com"},
    "channel of 65": {"channel": "c" * 65},
    "tags with NUL and surrogates": {"tags": "a\x00b \ud800 ok"},
    "created_at 9999-12-31 west of UTC": {"created_at": "9999-12-31T23:59:59-05:00"},
    "created_at 0001-01-01 east of UTC": {"created_at": "0001-01-01T00:00:00+05:00"},
    "ticket id of 20 digits": {"ticket_id": "9" * 20},
}
SIMPLE_NAMES = {"subject": "ticket_subject", "description": "ticket_description", "organization": "ticket_company_name",
                "requester": "ticket_requester_email", "channel": "ticket_source", "tags": "ticket_tags",
                "created_at": "ticket_created_at", "ticket_id": "ticket_id"}
EVENT_NAMES = {"subject": "subject", "description": "description", "organization": "organization_id",
               "channel": None, "requester": None, "tags": "tags", "created_at": "created_at", "ticket_id": "id"}


def shaped(shape: str, fields: dict) -> tuple[str, dict, str]:
    """(helpdesk, body, the ticket id it names) for `fields` written into one documented body shape."""
    ticket_id = str(fields.get("ticket_id", "5158"))
    if shape == "zendesk event":
        detail = {}
        for key, value in fields.items():
            if key == "channel":
                detail["via"] = {"channel": value}
            elif EVENT_NAMES.get(key):
                detail[EVENT_NAMES[key]] = value.split() if key == "tags" else value
        return "zendesk", zendesk_event(**detail), ticket_id
    if shape == "freshdesk simple":
        inner = {**SIMPLE, **{SIMPLE_NAMES[key]: value for key, value in fields.items()}}
        return "freshdesk", {"freshdesk_webhook": inner}, ticket_id
    return ("zendesk" if shape == "zendesk trigger" else "freshdesk"), {**TRIGGER, **fields}, ticket_id


SHAPES = ["zendesk event", "zendesk trigger", "freshdesk simple", "freshdesk custom"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fields", VALID.values(), ids=VALID.keys())
def test_2_a_valid_signed_delivery_is_accepted_and_stored(api_app, pg_store, shape, fields):
    helpdesk, body, ticket_id = shaped(shape, fields)
    empty_tables(pg_store)
    response = post_signed(api_app.test_client(), helpdesk, json.dumps(body).encode())
    assert_answer_shape(response, {202})
    subject = fields.get("subject")
    assert_delivery_outcome(pg_store, helpdesk, response, ticket_id, subject)


DEEP = {
    "subject nested 1,000 deep": (b'{"ticket_id": "7", "subject": ' + nested(1000) + b"}", {400}),
    "the whole body nested 1,000 deep": (nested(1000), {400}),
    "objects nested 1,000 deep": (b'{"a":' * 1000 + b"1" + b"}" * 1000, {400}),
    "an unread field nested 100,000 deep": (b'{"ticket_id": "7", "x": ' + nested(100_000) + b"}", {202, 400}),
}


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
@pytest.mark.parametrize("raw, allowed", DEEP.values(), ids=DEEP.keys())
def test_4_deeply_nested_json_is_refused_with_400(api_app, pg_store, helpdesk, raw, allowed):
    empty_tables(pg_store)
    response = post_signed(api_app.test_client(), helpdesk, raw)
    assert_answer_shape(response, allowed)
    assert_delivery_outcome(pg_store, helpdesk, response, "7")


# --- 9: request ids and chunked bodies ------------------------------------------------------------------

@pytest.mark.parametrize("request_id", ["r" * 65, "r" * 1000, "café ☃", "a b", "x\ty", "<script>", "\x7f" * 3],
                         ids=["65 chars", "1000 chars", "non-ASCII", "space", "tab", "markup", "DEL"])
@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
def test_9_a_junk_request_id_is_not_stored_as_sent(api_app, pg_store, helpdesk, request_id):
    empty_tables(pg_store)
    body = json.dumps({"ticket_id": "9", "subject": "Refund", "description": "Money back"}).encode()
    response = post_signed(api_app.test_client(), helpdesk, body, headers={"X-Request-Id": request_id})
    assert_answer_shape(response, {202})
    assert_delivery_outcome(pg_store, helpdesk, response, "9")  # stored id: printable ASCII, at most 64


def chunked(client, path: str, body: bytes, headers: dict):
    """Transfer-Encoding: chunked as gunicorn hands it to the app: de-chunked, `wsgi.input_terminated` set."""
    return client.post(path, input_stream=io.BytesIO(body), headers={"Transfer-Encoding": "chunked", **headers},
                       environ_overrides={"wsgi.input_terminated": True})


def chunked_headers(path: str, body: bytes) -> dict:
    if path == "/webhooks/zendesk":
        return {"Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, body)}
    if path == "/webhooks/freshdesk":
        return {"Content-Type": "application/json", "X-Webhook-Secret": FRESHDESK_SECRET}
    return {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}


@pytest.mark.parametrize("path", ["/webhooks/zendesk", "/webhooks/freshdesk", "/predict", "/predict/batch"])
@pytest.mark.parametrize("size", [MIB + 1, 2 * MIB, 8 * MIB], ids=["1 MiB + 1", "2 MiB", "8 MiB"])
def test_9_a_chunked_body_over_the_limit_gets_413(api_app, pg_store, path, size):
    client = api_app.test_client()
    empty_tables(pg_store)
    filler = size - len(b'{"ticket_id": "8", "description": ""}')
    body = b'{"ticket_id": "8", "description": "' + b"x" * filler + b'"}'
    response = chunked(client, path, body, chunked_headers(path, body))
    assert_answer_shape(response, {413})
    assert response.get_json()["error"] == "payload_too_large"
    assert_nothing_stored(pg_store, response)


@pytest.mark.parametrize("helpdesk", ["zendesk", "freshdesk"])
def test_9_a_small_chunked_delivery_is_accepted(api_app, pg_store, helpdesk):
    empty_tables(pg_store)
    body = json.dumps({"ticket_id": "8", "subject": "Refund", "description": "Money back"}).encode()
    path = f"/webhooks/{helpdesk}"
    response = chunked(api_app.test_client(), path, body, chunked_headers(path, body))
    assert_delivery_outcome(pg_store, helpdesk, response, "8")
    assert response.status_code == 202, response.get_data()[:200]
