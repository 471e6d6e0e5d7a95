"""A chunked body (Transfer-Encoding: chunked, no Content-Length) over the size limit gets 413 under the real
server (issue 12). gunicorn de-chunks the body and sets `wsgi.input_terminated`; werkzeug then stopped
reading at the limit without a word, so the endpoint saw a cut body (401 or 400) instead of a 413.

The server is gunicorn serving `app:app`, as the Procfile's `web` runs it, on a free port and SQLite.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpdesk_signing import freshdesk_headers, zendesk_signed_headers
from slack_interactions import SIGNING_SECRET, signed_headers
from webhook_app import FRESHDESK_SECRET, REPO, ZENDESK_SECRET

LIMIT = 16 * 1024
API_KEY = "hostile-chunked-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from store.database import Store

    folder = tmp_path_factory.mktemp("chunked")
    url = f"sqlite:///{folder / 'triage.db'}"
    store = Store(url)
    store.upgrade()
    store.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_",
                                                                        "DATABASE_URL", "REDIS_URL"))}
    env.update(DATABASE_URL=url, ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET, FRESHDESK_WEBHOOK_SECRET=FRESHDESK_SECRET,
               TRIAGE_API_KEYS=API_KEY, TRIAGE_MAX_BODY_BYTES=str(LIMIT), TRIAGE_ADMIN_TOKEN="chunked-admin",
               SLACK_BOT_TOKEN="xoxb-chunked", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_REVIEW_CHANNEL="C0REVIEW",
               SLACK_API_URL="http://127.0.0.1:9/api/", TRIAGE_MODEL_DIR=str(folder / "models"),
               TRIAGE_ROUTING_FILE=str(REPO / "config" / "routing.toml"), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "app:app", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", "1", "--threads", "4"],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


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
