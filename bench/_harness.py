"""Shared pieces of the intake benchmarks: a scratch database, the web and workers as subprocesses,
signed Zendesk deliveries, the Procfile's lines as users run them, and an open-loop load generator on loopback
that times each request from its due time (no coordinated omission)."""
from __future__ import annotations

import http.client
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
from dataclasses import dataclass, field
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


BENCH_REDIS_DBS = range(1, 14)  # 15 is the tests', 14 older benches flush, 0 is anyone's default
REDIS_CLAIM_KEY, REDIS_CLAIM_SECONDS = "triage-bench:claimed-by", 3 * 3600


def claim_redis_db() -> str:
    """An emptied Redis database of its own for this run: benches run side by side on one machine, and one
    that flushed another's database would lose its jobs. The claim goes when this process exits (or expires)."""
    import atexit

    import redis

    for db in BENCH_REDIS_DBS:
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        if client.set(REDIS_CLAIM_KEY, os.getpid(), nx=True, ex=REDIS_CLAIM_SECONDS):
            client.flushdb()
            client.set(REDIS_CLAIM_KEY, os.getpid(), ex=REDIS_CLAIM_SECONDS)
            atexit.register(client.delete, REDIS_CLAIM_KEY)
            return f"redis://127.0.0.1:6379/{db}"
    raise RuntimeError(f"every Redis database {BENCH_REDIS_DBS.start}-{BENCH_REDIS_DBS.stop - 1} is claimed by "
                       f"a running bench (key {REDIS_CLAIM_KEY})")


def scratch_services(db: str, queue: str, prefix: str) -> tuple[Path, str, str | None]:
    """A fresh work folder, database and (for the RQ queue) an emptied Redis database of this run's own."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    redis_url = claim_redis_db() if queue == "rq" else None
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
    """`triage web` (the Procfile's `web`) with `workers` server processes sharing the port."""
    process = start([str(Path(sys.executable).with_name("triage")), "web", "--port", str(port),
                     "--processes", str(workers)], env, workdir / "web.log")
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


def _connection(base: str, timeout: float) -> http.client.HTTPConnection:
    host, _, port = base.removeprefix("http://").partition(":")
    return http.client.HTTPConnection(host, int(port or 80), timeout=timeout)


class KeepAlive:
    """One keep-alive HTTP/1.1 connection (http.client: less client CPU than requests on a 2-core box).
    `call` answers the status, or -1 when the connection failed or timed out (then it reconnects next time)."""

    def __init__(self, base: str, timeout: float = 30.0):
        self.base, self.timeout, self._conn = base, timeout, None

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> int:
        for attempt in (1, 2):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = _connection(self.base, self.timeout)
            try:
                self._conn.request(method, path, body=body, headers=headers or {})
                response = self._conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # an idle keep-alive connection the server closed: once more on a new one
                if not reused or attempt == 2:
                    return -1
            except (OSError, http.client.HTTPException):
                self.close()
                return -1
        return -1

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass
class LoadResult:
    """Latencies in ms. `due_ms` counts from the request's slot in the schedule (the headline: a stalled server
    shows its own queue); `sent_ms` from when it was actually sent (what the server saw)."""

    due_ms: list[float] = field(default_factory=list)
    sent_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    outcomes: list[tuple[int, float]] = field(default_factory=list)  # (status, due_ms) of each request, in order
    seconds: float = 0.0
    sent: int = 0


def run_open_loop(base: str, make_request, count: int, rate: float, concurrency: int, timeout: float = 30.0,
                  start_at: float | None = None, stop: threading.Event | None = None) -> LoadResult:
    """Open loop: request i is due at start + i/rate, whatever happened before. `concurrency` threads, each with
    one keep-alive connection, take the next due request; when all are busy the next one leaves late and its
    latency still counts from its due time (no coordinated omission). `make_request(i)` gives
    (method, path, body, headers). Bounded: `count` requests, each with `timeout` seconds."""
    result, lock, next_index = LoadResult(), threading.Lock(), iter(range(count))
    start_at = time.perf_counter() + 0.2 if start_at is None else start_at

    def sender() -> None:
        connection = KeepAlive(base, timeout)
        while not (stop and stop.is_set()):
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            due = start_at + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            method, path, body, headers = make_request(i)
            began = time.perf_counter()
            status = connection.call(method, path, body, headers)
            finished = time.perf_counter()
            with lock:
                result.due_ms.append((finished - due) * 1000)
                result.sent_ms.append((finished - began) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                result.outcomes.append((status, result.due_ms[-1]))
                result.sent += 1
        connection.close()

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - start_at
    return result


def webhook_requests(first_id: int, run: str | None = None):
    """`make_request` for run_open_loop: signed Zendesk deliveries of ticket ids first_id, first_id + 1, ..."""
    run = run or uuid.uuid4().hex[:6]

    def make(i: int):
        body, headers = delivery(first_id + i, run)
        return "POST", "/webhooks/zendesk", body, headers

    return make


def healthz_requests(_i: int):
    return "GET", "/healthz", None, {}


def open_loop(url: str, count: int, rate: float, concurrency: int, first_id: int = 1) -> tuple[list[float], dict]:
    """Send `count` signed deliveries at `rate`/s from `concurrency` connections; latencies (ms, from each
    request's due time) and status counts (-1: no answer). See run_open_loop for the send-time latencies."""
    base, _, _path = url.partition("/webhooks/")
    result = run_open_loop(base, webhook_requests(first_id), count, rate, concurrency)
    return result.due_ms, result.statuses


def procfile_command(role: str) -> str:
    """The Procfile's line for `role`, as users run it."""
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == role:
            return command.strip()
    raise KeyError(f"Procfile has no {role!r} line")


def start_procfile(role: str, env: dict, workdir: Path, log_name: str | None = None, **more: str) -> subprocess.Popen:
    """Run the Procfile's `role` line with `sh -c` (PORT etc. in `more`), the venv's scripts first on PATH,
    and metrics in this run's own folder."""
    metrics = workdir / "metrics"
    metrics.mkdir(exist_ok=True)
    env = {**env, "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics), **more}
    return start(["sh", "-c", procfile_command(role)], env, workdir / f"{log_name or role}.log")


def wait_healthy(base: str, process: subprocess.Popen, log: Path, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz in {limit:.0f} s; see {log}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {"n": len(latencies), "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(percentile(latencies, 99), 2), "max_ms": round(max(latencies), 2)}
