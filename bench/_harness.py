"""Shared pieces of the intake benchmarks: a scratch database, gunicorn and workers as subprocesses,
signed Zendesk deliveries, and an open-loop load generator on loopback."""
from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from helpdesk_signing import zendesk_signed_headers  # noqa: E402  (same signing the tests use)

SECRET = "bench-signing-secret"
SUBJECTS = ["I need a refund for order {n}", "how do I change my shipping address", "cancel my account please",
            "where can I find invoice {n}", "my payment was declined twice", "the parcel {n} has not arrived",
            "I want to subscribe to the newsletter", "talk to a human agent please"]


def scratch_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    import psycopg

    name = f"triage_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def scratch_services(db: str, queue: str, prefix: str) -> tuple[Path, str, str | None]:
    """A fresh work folder, database and (for the RQ queue) an emptied Redis database 14."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    redis_url = "redis://127.0.0.1:6379/14" if queue == "rq" else None
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    return workdir, scratch_database(db, workdir), redis_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(database_url: str, workdir: Path, redis_url: str | None = None, **more: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_"))}
    env.update(DATABASE_URL=database_url, ZENDESK_WEBHOOK_SECRET=SECRET, HF_HUB_OFFLINE="1",
               TRIAGE_MODEL_DIR=str(workdir / "models"), TRIAGE_ROUTING_FILE=str(REPO / "config" / "routing.toml"))
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(more)
    return env


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "ab")
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=handle, stderr=handle, start_new_session=True)


def start_web(env: dict, port: int, workdir: Path, workers: int = 2) -> subprocess.Popen:
    process = start([sys.executable, "-m", "gunicorn", "app:app", "--bind", f"127.0.0.1:{port}", "--worker-class",
                     "gthread", "--workers", str(workers), "--threads", "8", "--log-level", "warning"],
                    env, workdir / "web.log")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"web did not start; see {workdir / 'web.log'}")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def delivery(n: int, run: str) -> tuple[bytes, dict]:
    body = json.dumps({"ticket_id": str(n), "subject": SUBJECTS[n % len(SUBJECTS)].format(n=n),
                       "description": f"Hello, ticket {n} of run {run}. Thanks!", "requester": f"user{n}@example.com",
                       "tags": "web", "created_at": "2026-11-25T10:00:00Z"}).encode()
    return body, {"Content-Type": "application/json", **zendesk_signed_headers(SECRET, body)}


def open_loop(url: str, count: int, rate: float, concurrency: int, first_id: int = 1) -> tuple[list[float], dict]:
    """Send `count` deliveries at `rate`/s from `concurrency` threads; return latencies (ms) and status counts."""
    run = uuid.uuid4().hex[:6]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.2

    def sender(offset: int) -> None:
        session = requests.Session()
        for i in range(offset, count, concurrency):
            due = start_at + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            body, headers = delivery(first_id + i, run)
            began = time.perf_counter()
            try:
                status = session.post(url, data=body, headers=headers, timeout=30).status_code
            except requests.RequestException:
                status = -1
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict:
    return {"n": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(percentile(latencies, 99), 2), "max_ms": round(max(latencies), 2)}
