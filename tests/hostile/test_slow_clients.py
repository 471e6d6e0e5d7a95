"""Slow clients hold no thread (issue 18): 60 connections sending headers, or a body, one byte every 0.5 s do
not keep /healthz or a signed webhook waiting, and each is cut off after TRIAGE_REQUEST_READ_SECONDS with a
408 JSON answer or a closed connection. Under gunicorn's gthread workers each such connection held a thread
until it finished (never), so 8 of them silenced the service.

The server is the Procfile's `web` line (`triage web`), on a free port and SQLite.
"""
from __future__ import annotations

import json
import select
import socket
import threading
import time

import pytest
import requests

from helpdesk_signing import zendesk_signed_headers
from procfile_web import parse_responses, raw_exchange, request_head, serving
from webhook_app import ZENDESK_SECRET

READ_SECONDS = 2
SLOW_CONNECTIONS = 60
BYTE_EVERY = 0.5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory.mktemp("slow"), ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET,
                       TRIAGE_REQUEST_READ_SECONDS=str(READ_SECONDS))


class SlowSenders(threading.Thread):
    """Connections that each send their request one byte every BYTE_EVERY seconds; notes when each is cut."""

    def __init__(self, port: int, requests_to_send: list[bytes]):
        super().__init__(daemon=True)
        self.pending = {}
        for raw in requests_to_send:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            self.pending[sock] = [raw, b"", time.monotonic()]  # what is left to send, what came back, start
        self.cut: list[tuple[float, bytes]] = []  # (seconds from the first byte to the close, the answer)

    def run(self) -> None:
        while self.pending:
            for sock, state in list(self.pending.items()):
                readable, _, _ = select.select([sock], [], [], 0)
                data = b""
                if readable:
                    try:
                        data = sock.recv(65536) or b""
                    except OSError:
                        data = b""
                    if data:
                        state[1] += data
                        continue
                    self._done(sock, state)
                    continue
                if state[0]:
                    try:
                        sock.send(state[0][:1])
                        state[0] = state[0][1:]
                    except OSError:  # cut: read what the server said before it closed
                        self._drain(sock, state)
            time.sleep(BYTE_EVERY)

    def _drain(self, sock, state) -> None:
        sock.setblocking(True)
        sock.settimeout(1)
        try:
            while data := sock.recv(65536):
                state[1] += data
        except OSError:
            pass
        self._done(sock, state)

    def _done(self, sock, state) -> None:
        self.cut.append((time.monotonic() - state[2], state[1]))
        del self.pending[sock]
        sock.close()


def test_slow_senders_hold_no_thread_and_are_cut_off(server):
    body = json.dumps({"ticket_id": "1", "subject": "slow", "description": "x" * 200}).encode()
    never_ending_headers = request_head("/webhooks/zendesk", {"Content-Type": "application/json"})[:-2] \
        + b"X-Padding: " + b"a" * 1000
    slow_body = request_head("/webhooks/zendesk", {"Content-Type": "application/json",
                                                   "Content-Length": str(len(body)),
                                                   **zendesk_signed_headers(ZENDESK_SECRET, body)})
    # the body's headers arrive at once, then the body byte by byte
    senders = SlowSenders(server, [never_ending_headers] * (SLOW_CONNECTIONS // 2)
                          + [slow_body + body] * (SLOW_CONNECTIONS // 2))
    for sock, state in senders.pending.items():
        if state[0].startswith(slow_body):
            sock.sendall(slow_body)
            state[0] = state[0][len(slow_body):]
    senders.start()
    time.sleep(BYTE_EVERY * 2)
    assert len(senders.pending) == SLOW_CONNECTIONS  # every one is in the middle of its request

    # far more slow connections than threads, and yet:
    assert requests.get(f"http://127.0.0.1:{server}/healthz", timeout=5).status_code == 200
    ticket = json.dumps({"ticket_id": "2", "subject": "I need a refund", "description": "please"}).encode()
    answer = requests.post(f"http://127.0.0.1:{server}/webhooks/zendesk", data=ticket, timeout=5, headers={
        "Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, ticket)})
    assert answer.status_code == 202, answer.text

    senders.join(timeout=READ_SECONDS + 10)
    assert not senders.pending, f"{len(senders.pending)} slow connections were never cut off"
    for seconds, raw in senders.cut:
        assert seconds < READ_SECONDS + 4  # the deadline is checked once a second
        answers = parse_responses(raw)
        assert [status for status, _ in answers] in ([], [408]), answers
        if answers:
            assert answers[0][1]["error"] == "request_timeout" and set(answers[0][1]) == {"error", "detail"}
    assert any(raw for _, raw in senders.cut), "no connection got the 408"


def test_headers_too_large_get_a_json_431(server):
    head = request_head("/webhooks/zendesk", {"X-Padding": "a" * 100_000, "Content-Length": "2"})
    answers, closed = raw_exchange(server, head, b"{}")
    assert closed and [status for status, _ in answers] == [431]
    assert answers[0][1]["error"] == "headers_too_large"
