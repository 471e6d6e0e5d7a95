"""Hostile input against `triage serve` on PostgreSQL, with /healthz probed every second.

Sends a mix of what a ticket author or a stranger can send (huge single words, NUL bytes, lone surrogates,
over-long labels, deep nesting, junk signatures and headers, a chunked body over the limit, junk to Slack
and the predict API), then an ordinary ticket. Slack is a local fake (tests/fake_slack.py), so review
messages are really rendered and masked. Prints: answers by status (no 5xx allowed), /healthz latency,
the time until every accepted ticket was written back or sent to review, and the ordinary ticket's time.

    python bench/hostile_serve.py [--db postgresql|sqlite]
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time

import requests
from sqlalchemy import create_engine, func, select

from _harness import REPO, SECRET, free_port, scratch_services, service_env, start, stop

sys.path.insert(0, str(REPO / "tests"))
from fake_slack import BOT_TOKEN, REVIEW_CHANNEL, FakeSlack  # noqa: E402
from slack_interactions import SIGNING_SECRET  # noqa: E402
from helpdesk_signing import zendesk_signed_headers  # noqa: E402

sys.path.insert(0, str(REPO))
from store.models import DONE, FAILED, Delivery  # noqa: E402

FRESHDESK_SECRET = "bench-freshdesk-secret"
DRAIN_LIMIT_SECONDS = 180
ADMIN_TOKEN = "bench-admin-token-123"


def zendesk_bodies() -> list[tuple[str, bytes]]:
    word = "x" * 1_000_000
    cases = {
        "1 MB single word": {"subject": "help", "description": word[:990_000]},
        "50k subject": {"subject": "y" * 50_000, "description": "please help"},
        "e-mail-like word": {"subject": "a.b" * 20_000, "description": ("a." * 300_000) + "@"},
        "digits and brackets": {"subject": "call", "description": "(1 " * 200_000},
        "html soup": {"subject": "html", "description": "<a " * 200_000},
        "quoted lines": {"subject": "re", "description": "> on x wrote:\n" * 50_000},
        "blank lines": {"subject": "blank", "description": "\n" * 500_000 + "refund"},
        "many tags": {"subject": "tags", "description": "hi", "tags": " ".join(f"t{n}" for n in range(60_000))},
        "long labels": {"subject": "labels", "description": "refund", "organization": "o" * 10_000,
                        "requester": "r" * 10_000 + "@example.com", "channel": "c" * 5_000},
        "far dates": {"subject": "dates", "description": "refund please", "created_at": "9999-12-31T23:59:59-12:00"},
    }
    bodies = [(name, json.dumps({"ticket_id": str(50_000 + n), **fields}).encode())
              for n, (name, fields) in enumerate(cases.items())]
    raw = {
        "NUL bytes": '{"ticket_id": "60001", "subject": "nul\\u0000here", "description": "body\\u0000\\u0000"}',
        "lone surrogates": '{"ticket_id": "60002", "subject": "\\ud800 high", "description": "low \\udfff",'
                           ' "organization": "\\udbff"}',
        "deep nesting": '{"ticket_id": "60003", "subject": ' + "[" * 5000 + "]" * 5000 + "}",
        "not json": "this is not json",
        "huge id": '{"ticket_id": "1' + "0" * 400 + '", "subject": "x"}',
    }
    return bodies + [(name, text.encode()) for name, text in raw.items()]


def send_hostile(base: str, statuses: dict[str, list[int]]) -> None:
    session = requests.Session()

    def note(name: str, status: int) -> None:
        statuses.setdefault(name, []).append(status)

    for name, body in zendesk_bodies():
        headers = {"Content-Type": "application/json", **zendesk_signed_headers(SECRET, body)}
        note(name, session.post(f"{base}/webhooks/zendesk", data=body, headers=headers, timeout=30).status_code)
    body = b'{"ticket_id": "60010", "subject": "request id", "description": "refund"}'
    headers = {"Content-Type": "application/json", "X-Request-Id": "../<script>" + "x" * 500 + " \t;",
               **zendesk_signed_headers(SECRET, body)}
    note("junk request id", session.post(f"{base}/webhooks/zendesk", data=body, headers=headers, timeout=30)
         .status_code)
    note("bad signature", session.post(f"{base}/webhooks/zendesk", data=body, timeout=30, headers={
        "X-Zendesk-Webhook-Signature": "nope", "X-Zendesk-Webhook-Signature-Timestamp": "junk"}).status_code)
    fresh = b'{"freshdesk_webhook": {"ticket_id": 60020, "ticket_subject": "\\u0000", "ticket_tags": 5}}'
    note("freshdesk wrong types", session.post(f"{base}/webhooks/freshdesk", data=fresh, timeout=30,
                                               headers={"X-Webhook-Secret": FRESHDESK_SECRET}).status_code)
    note("slack junk timestamp", session.post(f"{base}/slack/events", data=b"payload=%7B%7D", timeout=30, headers={
        "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}).status_code)
    note("predict without key", session.post(f"{base}/predict", json={"subject": "x"}, timeout=30).status_code)
    note("admin retry beyond BIGINT", session.post(f"{base}/admin/deliveries/{10 ** 30}/retry", timeout=30,
                                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
         .status_code)
    note("chunked over the limit", _chunked(base, 3 * 1024 * 1024))


def _chunked(base: str, size: int) -> int:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    chunk = b"a" * 65536
    try:
        connection.request("POST", "/webhooks/zendesk", body=(chunk for _ in range(size // len(chunk))),
                           headers={"Content-Type": "application/json"}, encode_chunked=True)
        return connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        return -1  # the server closed the connection on a body it refused: not a 5xx
    finally:
        connection.close()


def probe(base: str, stop_probing: threading.Event, latencies: list[float]) -> None:
    while not stop_probing.is_set():
        began = time.perf_counter()
        try:
            requests.get(f"{base}/healthz", timeout=10)
        except requests.RequestException:
            pass
        latencies.append(time.perf_counter() - began)
        stop_probing.wait(max(0.0, 1.0 - (time.perf_counter() - began)))


def wait_drained(engine, accepted: int, limit: float) -> tuple[float, dict]:
    began = time.monotonic()
    while True:
        with engine.connect() as connection:
            states = dict(connection.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
        if states.get(DONE, 0) + states.get(FAILED, 0) >= accepted or time.monotonic() - began > limit:
            return time.monotonic() - began, states
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    workdir, database_url, _ = scratch_services(args.db, "none", "triage-hostile-")
    slack = FakeSlack().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(database_url, workdir, FRESHDESK_WEBHOOK_SECRET=FRESHDESK_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
                      SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_REVIEW_CHANNEL=REVIEW_CHANNEL, SLACK_API_URL=slack.url,
                      TRIAGE_ADMIN_TOKEN=ADMIN_TOKEN)
    server = start([sys.executable, "-m", "cli.main", "serve", "--port", str(port)], env, workdir / "serve.log")
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        deadline = time.monotonic() + 120
        while not _up(base):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"triage serve did not start; see {workdir / 'serve.log'}")
            time.sleep(0.3)
        latencies: list[float] = []
        stop_probing = threading.Event()
        prober = threading.Thread(target=probe, args=(base, stop_probing, latencies), daemon=True)
        prober.start()
        statuses: dict[str, list[int]] = {}
        send_hostile(base, statuses)
        accepted = sum(status == 202 for codes in statuses.values() for status in codes)
        drain_seconds, states = wait_drained(engine, accepted, DRAIN_LIMIT_SECONDS)
        body = b'{"ticket_id": "70000", "subject": "I need a refund", "description": "my order arrived broken"}'
        ordinary = requests.post(f"{base}/webhooks/zendesk", data=body, timeout=30, headers={
            "Content-Type": "application/json", **zendesk_signed_headers(SECRET, body)}).status_code
        ordinary_seconds, _ = wait_drained(engine, accepted + 1, 60)
        stop_probing.set()
        prober.join()
    finally:
        stop(server)
        slack.stop()
        engine.dispose()
    server_errors = {name: codes for name, codes in statuses.items() if any(code >= 500 for code in codes)}
    for name, codes in statuses.items():
        print(f"{name:<28} {codes}")
    print(f"5xx answers: {len(server_errors)} {server_errors or ''}")
    print(f"/healthz: {len(latencies)} probes, median {statistics.median(latencies) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms (target: never over 3 s)")
    print(f"accepted {accepted}; all written back or sent to review in {drain_seconds:.1f} s "
          f"(target: 180 s); states {states}; Slack review messages {len(slack.messages.get(REVIEW_CHANNEL, []))}")
    print(f"ordinary ticket afterwards: HTTP {ordinary}, done in {ordinary_seconds:.2f} s")
    ok = (not server_errors and max(latencies) < 3 and drain_seconds < DRAIN_LIMIT_SECONDS and ordinary == 202
          and not states.get(FAILED))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def _up(base: str) -> bool:
    try:
        requests.get(f"{base}/healthz", timeout=1)
        return True
    except requests.RequestException:
        return False


if __name__ == "__main__":
    sys.exit(main())
