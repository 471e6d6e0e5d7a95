"""Chunked bodies and broken framing under the real server, started as the Procfile's `web` line runs it
(`triage web`), on a free port and SQLite.

A chunked body over the size limit gets 413 (issue 12: werkzeug used to stop reading at the limit without a
word, so the endpoint saw a cut body). Broken framing (a bad chunk size, a chunk shorter or longer than
declared, no terminating chunk, a bad extension, Content-Length and chunked both, a body longer or shorter than
its Content-Length) gets a 4xx with the JSON error body, or a closed connection, on every route; never a 5xx
(issue 18: gunicorn's InvalidChunkSize escaped the body read as a 500).
"""
from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from procfile_web import raw_exchange, request_head, serving
from slack_interactions import SIGNING_SECRET, signed_headers
from webhook_app import FRESHDESK_SECRET, ZENDESK_SECRET

LIMIT = 16 * 1024
API_KEY = "hostile-chunked-key"
READ_SECONDS = 2  # the server's TRIAGE_REQUEST_READ_SECONDS: a stalled request is cut after this
ROUTES = ["/webhooks/zendesk", "/webhooks/freshdesk", "/predict", "/predict/batch", "/slack/events",
          "/admin/login", "/healthz"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(
        tmp_path_factory.mktemp("chunked"), ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET,
        FRESHDESK_WEBHOOK_SECRET=FRESHDESK_SECRET, TRIAGE_API_KEYS=API_KEY, TRIAGE_MAX_BODY_BYTES=str(LIMIT),
        TRIAGE_ADMIN_TOKEN="chunked-admin", SLACK_BOT_TOKEN="xoxb-chunked", SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_REVIEW_CHANNEL="C0REVIEW", SLACK_API_URL="http://127.0.0.1:9/api/",
        TRIAGE_REQUEST_READ_SECONDS=str(READ_SECONDS))


def post_chunked(port: int, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    """POST `body` in 4 KiB chunks with no Content-Length; (status, JSON answer)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    chunks = (body[i:i + 4096] for i in range(0, len(body), 4096))
    connection.request("POST", path, body=chunks, headers={**headers, "Transfer-Encoding": "chunked"},
                       encode_chunked=True)
    response = connection.getresponse()
    status, answer = response.status, response.read()
    connection.close()
    return status, json.loads(answer)


def ticket(size: int) -> bytes:
    return json.dumps({"ticket_id": "4100", "subject": "Refund", "description": "x" * size}).encode()


def signed_for(path: str, body: bytes) -> dict:
    if path == "/webhooks/zendesk":
        return zendesk_signed_headers(ZENDESK_SECRET, body)
    if path == "/webhooks/freshdesk":
        return freshdesk_headers(FRESHDESK_SECRET)
    if path == "/slack/events":
        return signed_headers(body.decode(), SIGNING_SECRET)
    return {"Authorization": f"Bearer {API_KEY}"}


@pytest.mark.parametrize("path", ["/webhooks/zendesk", "/webhooks/freshdesk", "/predict", "/predict/batch",
                                  "/slack/events", "/admin/login"])
def test_a_chunked_body_over_the_limit_is_a_413_with_the_json_body(server, path):
    form = path in ("/slack/events", "/admin/login")
    body = b"payload=" + b"x" * (4 * LIMIT) if form else ticket(4 * LIMIT)
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    status, answer = post_chunked(server, path, body, {"Content-Type": content_type, **signed_for(path, body)})
    assert status == 413, answer
    assert answer["error"] == "payload_too_large" and set(answer) == {"error", "detail"}


def test_a_chunked_body_under_the_limit_is_read_whole_and_accepted(server):
    body = ticket(LIMIT // 2)
    status, answer = post_chunked(server, "/webhooks/zendesk", body,
                                  {"Content-Type": "application/json", **signed_for("/webhooks/zendesk", body)})
    assert status == 202, answer


def test_a_body_with_a_length_over_the_limit_is_a_413_too(server):
    body = ticket(4 * LIMIT)
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.request("POST", "/webhooks/zendesk", body=body,
                       headers={"Content-Type": "application/json", **signed_for("/webhooks/zendesk", body)})
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["error"] == "payload_too_large"


def test_a_small_chunked_admin_form_is_read_whole(server):
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.request("POST", "/admin/login", body=iter([b"token=chunked-", b"admin"]), encode_chunked=True,
                       headers={"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"})
    assert connection.getresponse().status == 303  # logged in: the token arrived whole


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
@pytest.mark.parametrize("path", ["/webhooks/zendesk", "/predict", "/admin/login"])
def test_a_body_far_over_the_limit_still_gets_its_413_not_a_reset(server, path, chunked):
    """256 times the limit (4 MiB here) is more than the sockets buffer: the client is still sending when we
    refuse, and reads the 413 only because we read the rest before answering."""
    form = path == "/admin/login"
    body = b"token=" + b"x" * (256 * LIMIT) if form else ticket(256 * LIMIT)
    headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
               **({} if form else signed_for(path, body))}
    if chunked:
        status, answer = post_chunked(server, path, body, headers)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        status, answer = response.status, json.loads(response.read())
        connection.close()
    assert status == 413 and answer["error"] == "payload_too_large"


def framing_head(path: str, **headers: str) -> bytes:
    content_type = "application/x-www-form-urlencoded" if path in ("/slack/events", "/admin/login") \
        else "application/json"
    return request_head(path, {"Content-Type": content_type, "Authorization": f"Bearer {API_KEY}", **headers})


CHUNKED = {"Transfer-Encoding": "chunked"}
# (headers, what follows them, the statuses the last answer may have): each is answered at once
REFUSED_AT_ONCE = {
    "chunk size not hex": (CHUNKED, b"zz\r\nabc\r\n0\r\n\r\n", {400}),
    "chunk size huge": (CHUNKED, b"ffffffffffffffffffffffff\r\nabc", {400, 413}),
    "chunk shorter than declared": (CHUNKED, b"3\r\nab\r\n0\r\n\r\n", {400}),
    "chunk longer than declared": (CHUNKED, b"2\r\nabcd\r\n0\r\n\r\n", {400}),
    "bad chunk extension": (CHUNKED, b"3;\x01=\x02\r\nabc\r\n0\r\n\r\n", {400}),
    "content-length and chunked": ({**CHUNKED, "Content-Length": "3"}, b"3\r\nabc\r\n0\r\n\r\n", {400}),
    "unknown transfer coding": ({"Transfer-Encoding": "gzip, chunked"}, b"3\r\nabc\r\n0\r\n\r\n", {400}),
    "content-length not a number": ({"Content-Length": "3x"}, b"abc", {400}),
    # the extra bytes are read as the next request, which is no request at all
    "body longer than content-length": ({"Content-Length": "2"}, b"{}garbage\r\n\r\n", {400}),
}
# cut off after the read deadline: 408, or the connection closed
STALLED = {
    "chunk shorter than declared, then nothing": (CHUNKED, b"10\r\nabc"),
    "no terminating chunk": (CHUNKED, b"3\r\nabc\r\n"),
    "body shorter than content-length": ({"Content-Length": "100"}, b'{"ticket_id": "1"'),
}


def assert_json_4xx(answers: list) -> None:
    for status, answer in answers:
        assert 400 <= status < 500, (status, answer)
        assert isinstance(answer, dict) and set(answer) == {"error", "detail"}, answer


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("case", list(REFUSED_AT_ONCE))
def test_broken_framing_is_a_json_4xx_on_every_route(server, path, case):
    headers, rest, statuses = REFUSED_AT_ONCE[case]
    answers, closed = raw_exchange(server, framing_head(path, **headers), rest)
    assert answers, "no answer"
    assert all(status < 500 for status, _ in answers), answers  # the app may answer what came before
    assert_json_4xx(answers[-1:])
    assert answers[-1][0] in statuses, answers
    assert closed  # a framing error ends the connection: what follows cannot be trusted


@pytest.mark.parametrize("case", list(STALLED))
def test_a_request_that_stops_arriving_is_cut_off_on_every_route(server, case):
    headers, rest = STALLED[case]
    began = time.monotonic()
    with ThreadPoolExecutor(len(ROUTES)) as pool:
        results = list(pool.map(lambda path: raw_exchange(server, framing_head(path, **headers), rest, timeout=15),
                                ROUTES))
    for answers, closed in results:
        assert closed, "the connection was left open"
        assert_json_4xx(answers)
        assert [status for status, _ in answers] in ([], [408]), answers
    assert time.monotonic() - began < READ_SECONDS + 5


@pytest.mark.parametrize("path", ROUTES)
def test_a_short_chunk_then_the_end_of_the_stream_is_no_5xx(server, path):
    answers, closed = raw_exchange(server, framing_head(path, **CHUNKED), b"10\r\nabc", then="eof")
    assert closed
    assert_json_4xx(answers)
