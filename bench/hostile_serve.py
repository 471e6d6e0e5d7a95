"""Hostile input and hostile load against `triage serve` on PostgreSQL (or, with `--web procfile`, the Procfile's
web line and 2 of its workers on Redis), each part watched by two ordinary users.

Parts (`--only`, repeatable; default all):
- payloads: what a ticket author or a stranger can send (huge single words, NUL bytes, lone surrogates, over-long
  labels, deep nesting, junk signatures and headers, a chunked body over the limit, junk to Slack and predict);
- slow: 250 connections for `--seconds`: 200 send a POST's headers and then the body 1 byte/s, 50 send headers
  that never end (1 byte/s); one selectors loop; a connection the server cuts is opened again;
- chunked: bad chunked framing on every route (bad size, short chunk then close, no CRLF after a chunk's data,
  no last chunk, an overflowing size); 4xx or a closed connection is fine, 5xx or no answer in `--chunk-wait` fails;
- predict: 40 parallel callers of /predict/batch with the largest batch the API takes for `--seconds` (429 is fine).
During each part /healthz is probed open loop every 0.15 s and a signed webhook is sent every second.
Targets per part: /healthz p99 <= 250 ms and no probe lost; every signed webhook 202 within 1 s (from its due
time); no 5xx. At the end: every accepted ticket processed exactly once (the store), and an ordinary ticket.

    python bench/hostile_serve.py [--db postgresql|sqlite] [--only payloads|slow|chunked|predict] [--seconds 30]
                                  [--web serve|procfile]
"""
from __future__ import annotations

import argparse
import http.client
import json
import selectors
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import create_engine, func, select

from _harness import (REPO, SECRET, KeepAlive, free_port, healthz_requests, percentile, run_open_loop,
                      scratch_services, service_env, start, start_procfile, stop, summary, wait_healthy,
                      webhook_requests)

sys.path.insert(0, str(REPO / "tests"))
from fake_slack import BOT_TOKEN, REVIEW_CHANNEL, FakeSlack  # noqa: E402
from slack_interactions import SIGNING_SECRET  # noqa: E402
from helpdesk_signing import zendesk_signed_headers  # noqa: E402

sys.path.insert(0, str(REPO))
from api.schemas import MAX_BATCH  # noqa: E402
from store.models import DONE, FAILED, Delivery, PredictionRecord, WriteBack  # noqa: E402

FRESHDESK_SECRET = "bench-freshdesk-secret"
DRAIN_LIMIT_SECONDS = 300
ADMIN_TOKEN = "bench-admin-token-123"
API_KEY = "bench-predict-key"
HEALTHZ_EVERY = 0.15  # seconds between /healthz probes
HEALTHZ_TARGET_MS = 250
WEBHOOK_TARGET_MS = 1000


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


class Watch:
    """The two ordinary users of a part: /healthz every 0.15 s and a signed webhook every second, open loop,
    timed from their due times; stopped by `finish`."""

    def __init__(self, base: str, first_id: int, limit_seconds: float = 900):
        self.stop_event, self.results = threading.Event(), {}
        self.start_at = time.perf_counter() + 0.1
        self.threads = [
            threading.Thread(target=self._run, args=("healthz", base, healthz_requests, 1 / HEALTHZ_EVERY, 4, 5.0,
                                                     limit_seconds)),
            threading.Thread(target=self._run, args=("webhook", base, webhook_requests(first_id), 1.0, 3, 15.0,
                                                     limit_seconds)),
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, name, base, make, rate, connections, timeout, limit_seconds) -> None:
        self.results[name] = run_open_loop(base, make, int(rate * limit_seconds), rate, connections, timeout=timeout,
                                           start_at=self.start_at, stop=self.stop_event)

    def finish(self) -> dict:
        """A probe or webhook that fell due and never got its answer counts as lost or late, sent or not."""
        due_healthz = int((time.perf_counter() - self.start_at) / HEALTHZ_EVERY) + 1
        due_webhooks = int(time.perf_counter() - self.start_at) + 1
        self.stop_event.set()
        for thread in self.threads:
            thread.join()
        healthz, webhook = self.results["healthz"], self.results["webhook"]
        lost = max(due_healthz, len(healthz.outcomes)) - sum(status == 200 for status, _ in healthz.outcomes)
        misses = max(due_webhooks, len(webhook.outcomes)) - sum(
            status == 202 and ms <= WEBHOOK_TARGET_MS for status, ms in webhook.outcomes)
        p99 = percentile(healthz.due_ms, 99) if healthz.due_ms else None
        return {"healthz": {**summary(healthz.due_ms), "due": due_healthz, "lost": lost, "statuses": healthz.statuses},
                "webhook": {**summary(webhook.due_ms), "due": due_webhooks, "late_or_refused": misses,
                            "statuses": webhook.statuses},
                "accepted": webhook.statuses.get(202, 0),
                "five_xx": sum(n for result in (healthz, webhook) for status, n in result.statuses.items()
                               if status >= 500),
                "watch_pass": p99 is not None and p99 <= HEALTHZ_TARGET_MS and lost == 0 and misses == 0}


# --- slow clients --------------------------------------------------------------------------------------------
def slow_clients(host: str, port: int, bodies: int, headers: int, seconds: float) -> dict:
    """`bodies` connections send a POST's headers then its body 1 byte/s; `headers` send a request line and then
    header bytes 1 byte/s, never ending. One selectors loop; a connection the server cuts is opened again on the
    next tick. Answers the connections opened, how many the server cut (and after how long), and its answers."""
    selector = selectors.DefaultSelector()
    opened, cuts, answers, cut_after = 0, 0, {}, []
    kinds = ["body"] * bodies + ["headers"] * headers
    wanted = list(range(len(kinds)))  # slots to (re)open on the next tick
    state: dict[socket.socket, list] = {}  # socket -> [slot, opened at, head sent]
    heads = {"body": (f"POST /webhooks/zendesk HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json"
                      f"\r\nX-Zendesk-Webhook-Signature: slow\r\nX-Zendesk-Webhook-Signature-Timestamp: slow\r\n"
                      f"Content-Length: 100000\r\n\r\n").encode(),
             "headers": f"POST /webhooks/zendesk HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode()}

    def close(sock: socket.socket, answered: bytes | None) -> None:
        nonlocal cuts
        slot, since, _ = state.pop(sock)
        selector.unregister(sock)
        sock.close()
        if answered is not None:  # the server cut it (answered or closed): open the slot again next tick
            cuts += 1
            cut_after.append(time.monotonic() - since)
            status = answered.split(b" ", 2)[1].decode(errors="replace") if answered.startswith(b"HTTP/") else "closed"
            answers[status] = answers.get(status, 0) + 1
            wanted.append(slot)

    end, next_tick = time.monotonic() + seconds, time.monotonic()
    while time.monotonic() < end:
        if time.monotonic() >= next_tick:
            next_tick += 1.0
            for slot in wanted:
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex((host, port))
                state[sock] = [slot, time.monotonic(), False]
                selector.register(sock, selectors.EVENT_READ, data=kinds[slot])
                opened += 1
            wanted.clear()
            for sock in list(state):
                kind, head_sent = kinds[state[sock][0]], state[sock][2]
                try:
                    if head_sent:
                        sock.send(b"x" if kind == "headers" else b" ")
                    else:
                        sock.sendall(heads[kind])
                        state[sock][2] = True
                except BlockingIOError:
                    pass  # not connected yet (or the server reads nothing): try again next tick
                except OSError:
                    close(sock, b"")
        for key, _ in selector.select(timeout=max(0.0, min(next_tick, end) - time.monotonic())):
            sock = key.fileobj
            if sock not in state:
                continue
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            close(sock, data)
    for sock in list(state):
        close(sock, None)
    selector.close()
    cut_after.sort()
    return {"opened": opened, "cut_by_server": cuts, "answers": answers,
            "cut_after_s": {"p50": round(cut_after[len(cut_after) // 2], 1), "max": round(cut_after[-1], 1)}
            if cut_after else None}


# --- bad chunked framing --------------------------------------------------------------------------------------
CHUNK_CASES = {  # name -> (bytes after the headers, then half-close?)
    "bad chunk size": (b"zz\r\nhello\r\n0\r\n\r\n", False),
    "overflowing size": (b"fffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", False),
    "short chunk then close": (b"64\r\nhello", True),
    "no CRLF after data": (b"5\r\nhelloXX0\r\n\r\n", False),
    "no last chunk": (b"5\r\nhello\r\n", False),
}


def chunk_routes() -> dict[str, dict]:
    """Every POST route, with the credentials it checks before reading the body (so the body is read)."""
    bearer = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    return {"/webhooks/zendesk": {"Content-Type": "application/json", "X-Zendesk-Webhook-Signature": "junk",
                                  "X-Zendesk-Webhook-Signature-Timestamp": "2026-01-01T00:00:00Z"},
            "/webhooks/freshdesk": {"Content-Type": "application/json", "X-Webhook-Secret": FRESHDESK_SECRET},
            "/predict": bearer, "/predict/batch": bearer,
            "/slack/events": {"Content-Type": "application/x-www-form-urlencoded",
                              "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"}}


def send_chunked(host: str, port: int, path: str, headers: dict, tail: bytes, half_close: bool,
                 wait: float) -> tuple[str, float, bool]:
    """(the answer's status, or closed / no answer; seconds until it came; whether a 4xx body was JSON)."""
    began = time.monotonic()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}Transfer-Encoding: chunked\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=wait) as sock:
        try:
            sock.sendall(request + tail)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            data = b""
            while b"\r\n\r\n" not in data:
                more = sock.recv(65536)
                if not more:
                    break
                data += more
            try:  # read what body there is, briefly
                sock.settimeout(1.0)
                while len(data) < 65536 and (more := sock.recv(65536)):
                    data += more
            except OSError:
                pass
        except socket.timeout:
            return "no answer", time.monotonic() - began, False
        except OSError:
            return "closed", time.monotonic() - began, False
    if not data.startswith(b"HTTP/"):
        return "closed", time.monotonic() - began, False
    status = data.split(b" ", 2)[1].decode()
    body = data.partition(b"\r\n\r\n")[2]
    try:
        json_error = "error" in json.loads(body)
    except ValueError:
        json_error = False
    return status, time.monotonic() - began, json_error


def bad_chunking(host: str, port: int, wait: float) -> dict:
    cases = [(path, headers, name, tail, half) for path, headers in chunk_routes().items()
             for name, (tail, half) in CHUNK_CASES.items()]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda c: (c[0], c[2], *send_chunked(host, port, c[0], c[1], c[3], c[4], wait)),
                                cases))
    rows = [{"route": path, "case": name, "answer": status, "seconds": round(seconds, 2), "json_error": json_error}
            for path, name, status, seconds, json_error in answers]
    bad = [r for r in rows if r["answer"] == "no answer" or r["answer"].startswith("5")]
    return {"cases": rows, "statuses": _count(r["answer"] for r in rows), "five_xx_or_no_answer": len(bad),
            "slowest_s": max(r["seconds"] for r in rows)}


# --- a greedy predict client ----------------------------------------------------------------------------------
def greedy_predict(base: str, callers: int, seconds: float) -> dict:
    """`callers` threads call /predict/batch with MAX_BATCH tickets back to back for `seconds` (after a 429 a
    caller pauses 0.25 s, so the load generator's own CPU stays small)."""
    body = json.dumps({"tickets": [{"subject": f"refund for order {n}", "body": f"my parcel {n} arrived broken, "
                                    "I want my money back", "tags": ["web"]} for n in range(MAX_BATCH)]}).encode()
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    lock, statuses, latencies = threading.Lock(), {}, []
    end = time.monotonic() + seconds

    def caller() -> None:
        connection = KeepAlive(base, 180)
        while time.monotonic() < end:
            began = time.perf_counter()
            status = connection.call("POST", "/predict/batch", body, headers)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append((time.perf_counter() - began) * 1000)
            if status != 200:
                time.sleep(0.25)
        connection.close()

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"callers": callers, "batch": MAX_BATCH, "statuses": statuses, "batch_latency": summary(latencies),
            "five_xx": sum(n for status, n in statuses.items() if status >= 500)}


# --- the store ------------------------------------------------------------------------------------------------
def wait_drained(engine, limit: float) -> tuple[float, dict]:
    """Until no stored delivery is open (or `limit`)."""
    began = time.monotonic()
    while True:
        with engine.connect() as connection:
            states = dict(connection.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
        if sum(n for state, n in states.items() if state not in (DONE, FAILED)) == 0 \
                or time.monotonic() - began > limit:
            return time.monotonic() - began, states
        time.sleep(0.5)


def exactly_once(engine, accepted: int) -> dict:
    """Every accepted ticket stored once and processed once: one delivery per ticket, one champion prediction
    and at most one route write-back per delivery, none still open."""
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Delivery))
        states = dict(connection.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
        twice = connection.scalar(select(func.count()).select_from(
            select(Delivery.ticket_id).group_by(Delivery.ticket_id).having(func.count() > 1).subquery()))
        predicted_twice = connection.scalar(select(func.count()).select_from(
            select(PredictionRecord.delivery_id).where(PredictionRecord.role == "champion")
            .group_by(PredictionRecord.delivery_id).having(func.count() > 1).subquery()))
        written_twice = connection.scalar(select(func.count()).select_from(
            select(WriteBack.delivery_id).where(WriteBack.kind == "route")
            .group_by(WriteBack.delivery_id).having(func.count() > 1).subquery()))
        unpredicted = connection.scalar(select(func.count()).where(
            Delivery.state == DONE, ~select(PredictionRecord.id).where(
                PredictionRecord.delivery_id == Delivery.id, PredictionRecord.role == "champion").exists()))
    open_ = sum(n for state, n in states.items() if state not in (DONE, FAILED))
    return {"accepted": accepted, "stored": stored, "states": states, "open": open_,
            "tickets_with_two_deliveries": twice, "predicted_twice": predicted_twice,
            "written_back_twice": written_twice, "done_without_prediction": unpredicted,
            "pass": stored >= accepted and open_ == 0 and not states.get(FAILED) and twice == 0
            and predicted_twice == 0 and written_twice == 0 and unpredicted == 0}


def _count(items) -> dict:
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


# --- the run --------------------------------------------------------------------------------------------------
def start_server(args, env: dict, workdir, port: int) -> list:
    if args.web == "serve":
        return [start([sys.executable, "-m", "cli.main", "serve", "--port", str(port)], env, workdir / "serve.log")]
    web = start_procfile("web", env, workdir, PORT=str(port))
    return [web] + [start_procfile("worker", env, workdir, f"worker{n}") for n in range(2)]


def run_part(name: str, args, base: str, host: str, port: int, first_id: int) -> dict:
    watch = Watch(base, first_id)
    time.sleep(1.0)  # the watchers' first probes before the attack
    began = time.monotonic()
    if name == "payloads":
        statuses: dict[str, list[int]] = {}
        send_hostile(base, statuses)
        attack = {"statuses": statuses, "accepted": sum(s == 202 for codes in statuses.values() for s in codes),
                  "five_xx": sum(s >= 500 for codes in statuses.values() for s in codes)}
    elif name == "slow":
        attack = slow_clients(host, port, args.slow_bodies, args.slow_headers, args.seconds)
        attack["five_xx"] = sum(n for status, n in attack["answers"].items() if status.startswith("5"))
    elif name == "chunked":
        attack = bad_chunking(host, port, args.chunk_wait)
        attack["five_xx"] = attack["five_xx_or_no_answer"]
    else:
        attack = greedy_predict(base, args.predict_callers, args.seconds)
    attack_seconds = time.monotonic() - began
    watched = watch.finish()
    five_xx = attack["five_xx"] + watched["five_xx"]
    ok = watched["watch_pass"] and five_xx == 0
    return {"part": name, "attack_seconds": round(attack_seconds, 1), "attack": attack, **watched,
            "five_xx_total": five_xx, "pass": ok}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--only", choices=["payloads", "slow", "chunked", "predict"], action="append")
    parser.add_argument("--seconds", type=float, default=30, help="length of the slow and predict attacks")
    parser.add_argument("--web", choices=["serve", "procfile"], default="serve")
    parser.add_argument("--slow-bodies", type=int, default=200)
    parser.add_argument("--slow-headers", type=int, default=50)
    parser.add_argument("--predict-callers", type=int, default=40)
    parser.add_argument("--chunk-wait", type=float, default=35, help="seconds a bad chunked request may go unanswered")
    args = parser.parse_args()
    parts = args.only or ["payloads", "slow", "chunked", "predict"]
    workdir, database_url, redis_url = scratch_services(args.db, "rq" if args.web == "procfile" else "none",
                                                        "triage-hostile-")
    slack = FakeSlack().start()
    port = free_port()
    host, base = "127.0.0.1", f"http://127.0.0.1:{port}"
    env = service_env(database_url, workdir, redis_url, FRESHDESK_WEBHOOK_SECRET=FRESHDESK_SECRET,
                      SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                      SLACK_REVIEW_CHANNEL=REVIEW_CHANNEL, SLACK_API_URL=slack.url, TRIAGE_ADMIN_TOKEN=ADMIN_TOKEN,
                      TRIAGE_API_KEYS=API_KEY)
    if args.web == "procfile":
        import subprocess

        subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], env=env, check=True, cwd=REPO,
                       capture_output=True)
    processes = start_server(args, env, workdir, port)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    results = []
    try:
        wait_healthy(base, processes[0], workdir / ("serve.log" if args.web == "serve" else "web.log"))
        KeepAlive(base, 60).call("POST", "/predict", b'{"subject": "warm up"}',  # the web loads the model
                                 {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})
        for n, name in enumerate(parts):
            results.append(run_part(name, args, base, host, port, 80_000_000 + n * 100_000))
            print(json.dumps(results[-1]), flush=True)
        accepted = sum(r["accepted"] + r["attack"].get("accepted", 0) for r in results)
        drain_seconds, _ = wait_drained(engine, DRAIN_LIMIT_SECONDS)
        body = b'{"ticket_id": "70000", "subject": "I need a refund", "description": "my order arrived broken"}'
        ordinary = requests.post(f"{base}/webhooks/zendesk", data=body, timeout=30, headers={
            "Content-Type": "application/json", **zendesk_signed_headers(SECRET, body)}).status_code
        ordinary_seconds, _ = wait_drained(engine, 60)
        once = exactly_once(engine, accepted + (ordinary == 202))
    finally:
        for process in processes:
            stop(process)
        slack.stop()
        engine.dispose()
    once.update(drain_seconds=round(drain_seconds, 1), ordinary_status=ordinary,
                ordinary_seconds=round(ordinary_seconds, 2), slack_reviews=len(slack.messages.get(REVIEW_CHANNEL, [])))
    print(json.dumps({"part": "exactly_once", **once}))
    print(report(results, once))
    print(f"logs: {workdir}; database {database_url}")
    return 0 if all(r["pass"] for r in results) and once["pass"] and ordinary == 202 else 1


def report(results: list[dict], once: dict) -> str:
    lines = ["| part | /healthz p99 (lost) | webhooks late or refused | 5xx | attack | result |",
             "|---|---|---|---|---|---|"]
    for r in results:
        attack = r["attack"]
        what = {"payloads": lambda: f"{sum(len(c) for c in attack['statuses'].values())} payloads",
                "slow": lambda: f"{attack['opened']} connections opened, {attack['cut_by_server']} cut "
                                f"{attack['cut_after_s'] or ''} {attack['answers']}",
                "chunked": lambda: f"{len(attack['cases'])} requests: {attack['statuses']}, slowest {attack['slowest_s']} s",
                "predict": lambda: f"{attack['statuses']}, batch p50 {attack['batch_latency']['p50_ms']} ms"}[r["part"]]()
        lines.append(f"| {r['part']} | {r['healthz']['p99_ms']} ms ({r['healthz']['lost']} of {r['healthz']['due']}) | "
                     f"{r['webhook']['late_or_refused']} of {r['webhook']['due']} | {r['five_xx_total']} | {what} | "
                     f"{'PASS' if r['pass'] else 'FAIL'} |")
    lines.append(f"| exactly once | | | | {once['stored']} stored, {once['accepted']} accepted, states {once['states']}"
                 f" | {'PASS' if once['pass'] else 'FAIL'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
