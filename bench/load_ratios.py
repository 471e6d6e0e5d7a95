"""Intake and pipeline as ratios to their floors, measured side by side in ONE run, on PostgreSQL, with the web
started from the Procfile's `web` line (as users run it) and workers from its `worker` line, on Redis.

    python bench/load_ratios.py [--only ack|burst|e2e] [--seconds 20] [--burst-seconds 5] [--e2e-tickets 3000]
                                [--classify-seconds 10] [--latency-seconds 20] [--no-kill]

- ack: 200 signed webhooks/s on 16 connections (web alone) next to an open-loop /healthz probe at 20/s in the
  same seconds. Target: ack p99 <= 3x /healthz p99.
- burst: 300 webhooks/s for 5 s while 2 `triage worker`s process. Target: ack p99 <= 250 ms.
- e2e: single-ticket `/predict` tickets/s on the same web (closed loop, as fast as it serves them: the floor);
  then tickets through web + 2 workers with the starter model, one worker SIGKILLed mid-run and restarted,
  the store checked for tickets lost or processed twice. Target: e2e/classify >= 0.35. Then received -> routed
  (Delivery.received_at -> finished_at) p50/p99 at 20 and 100 tickets/s.
Every latency counts from the request's due time in the open-loop schedule (no coordinated omission).
Prints one JSON line per measure, then a table; exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import create_engine, func, select

from _harness import (REPO, SUBJECTS, KeepAlive, free_port, healthz_requests, percentile, run_open_loop,
                      scratch_services, service_env, start_procfile, stop, summary, wait_healthy, webhook_requests)

sys.path.insert(0, str(REPO))
from store.models import DONE, FAILED, Delivery, PredictionRecord, TicketRecord, WriteBack  # noqa: E402

API_KEY = "bench-predict-key"
DRAIN_LIMIT_SECONDS = 900
STALL_SECONDS = 90
FIRST_ID = {"warm": 9_000_000, "ack": 1_000_000, "burst": 2_000_000, "e2e": 3_000_000, "lat20": 4_000_000,
            "lat100": 5_000_000}


class Run:
    """The processes and store of one run, and the figures measured so far."""

    def __init__(self, args):
        self.args = args
        self.workdir, self.database_url, redis_url = scratch_services("postgresql", "rq", "triage-ratios-")
        self.redis_url = redis_url
        self.env = service_env(self.database_url, self.workdir, redis_url, TRIAGE_API_KEYS=API_KEY,
                               TRIAGE_LEASE_SECONDS="10")
        subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], env=self.env, check=True, cwd=REPO,
                       capture_output=True)
        self.engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web = start_procfile("web", self.env, self.workdir, PORT=str(self.port))
        wait_healthy(self.base, self.web, self.workdir / "web.log")
        self.workers: list[subprocess.Popen] = []
        self.restarts = 0
        self.rows: list[dict] = []

    # processes
    def start_workers(self, count: int = 2) -> None:
        while len(self.workers) < count:
            self.workers.append(start_procfile("worker", self.env, self.workdir, f"worker{len(self.workers)}"))
        self.warm_workers()

    def warm_workers(self) -> None:
        """Until the workers have the model loaded and finish tickets: 20 more finished than before."""
        before = self.finished()
        run_open_loop(self.base, webhook_requests(FIRST_ID["warm"] + self.restarts * 100), 20, 20, 2)
        self.restarts += 1
        deadline = time.monotonic() + 180
        while self.finished() < before + 20 and time.monotonic() < deadline:
            time.sleep(0.25)

    def open_deliveries(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).where(Delivery.state.notin_((DONE, FAILED))))

    def close(self) -> None:
        for process in self.workers + [self.web]:
            stop(process)
        self.engine.dispose()

    # store
    def last_delivery_id(self) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.coalesce(func.max(Delivery.id), 0)))

    def finished(self, after_id: int = 0) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).where(Delivery.id > after_id,
                                                                Delivery.state.in_((DONE, FAILED))))

    def wait_drained(self, after_id: int, expected: int, limit: float = DRAIN_LIMIT_SECONDS) -> float:
        """Until `expected` deliveries after `after_id` are finished, `limit` passed, or none finished for
        STALL_SECONDS (a lost ticket would otherwise hold the bench until the limit)."""
        began = last_progress = time.monotonic()
        seen = -1
        while (count := self.finished(after_id)) < expected and time.monotonic() - began < limit:
            if count != seen:
                seen, last_progress = count, time.monotonic()
            elif time.monotonic() - last_progress > STALL_SECONDS:
                break
            time.sleep(0.25)
        return time.monotonic() - began

    def wait_all_drained(self) -> None:
        with self.engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(Delivery))
        self.wait_drained(0, total)

    def audit(self, after_id: int, first_id: int, accepted: int) -> dict:
        """What the store says about one phase's deliveries: lost, doubled, timings."""
        phase = Delivery.id > after_id
        with self.engine.connect() as connection:
            states = dict(connection.execute(select(Delivery.state, func.count()).where(phase)
                                             .group_by(Delivery.state)).all())
            tickets = connection.scalar(select(func.count(func.distinct(TicketRecord.external_id)))
                                        .join(Delivery, Delivery.ticket_id == TicketRecord.id).where(phase))
            deliveries_per_ticket = connection.scalar(select(func.count()).select_from(
                select(Delivery.ticket_id).where(phase).group_by(Delivery.ticket_id).having(func.count() > 1)
                .subquery()))
            predictions_twice = connection.scalar(select(func.count()).select_from(
                select(PredictionRecord.delivery_id).where(PredictionRecord.delivery_id > after_id,
                                                           PredictionRecord.role == "champion")
                .group_by(PredictionRecord.delivery_id).having(func.count() > 1).subquery()))
            without_prediction = connection.scalar(select(func.count()).where(
                phase, Delivery.state == DONE, ~select(PredictionRecord.id).where(
                    PredictionRecord.delivery_id == Delivery.id, PredictionRecord.role == "champion").exists()))
            write_backs_twice = connection.scalar(select(func.count()).select_from(
                select(WriteBack.delivery_id).where(WriteBack.delivery_id > after_id, WriteBack.kind == "route")
                .group_by(WriteBack.delivery_id).having(func.count() > 1).subquery()))
            retried = connection.scalar(select(func.count()).where(phase, Delivery.attempts > 0))
            spans = connection.execute(select(Delivery.received_at, Delivery.finished_at)
                                       .where(phase, Delivery.state == DONE)).all()
        done = states.get(DONE, 0)
        latencies = [(finished - received).total_seconds() * 1000 for received, finished in spans if finished]
        first, last = (min(r for r, _ in spans), max(f for _, f in spans if f)) if spans else (None, None)
        return {"accepted": accepted, "stored_tickets": tickets, "done": done, "failed": states.get(FAILED, 0),
                "lost": accepted - done, "doubled": deliveries_per_ticket + predictions_twice + write_backs_twice,
                "done_without_prediction": without_prediction, "retried": retried,
                "received_to_routed": summary(latencies),
                "span_s": round((last - first).total_seconds(), 2) if spans else None}

    def report(self, row: dict) -> None:
        self.rows.append(row)
        print(json.dumps(row), flush=True)


def with_probe(run: Run, seconds: float, load) -> tuple:
    """`load(start_at)` and an open-loop /healthz probe at --healthz-rate/s over the same seconds."""
    start_at = time.perf_counter() + 0.3
    probe: dict = {}
    prober = threading.Thread(target=lambda: probe.update(result=run_open_loop(
        run.base, healthz_requests, int(run.args.healthz_rate * seconds), run.args.healthz_rate, 2, timeout=10,
        start_at=start_at)))
    prober.start()
    result = load(start_at)
    prober.join()
    return result, probe["result"]


def part_ack(run: Run) -> None:
    args = run.args
    run_open_loop(run.base, webhook_requests(FIRST_ID["ack"] + 900_000), 200, 100, 8)  # warm-up
    count = int(args.rate * args.seconds)
    ack, healthz = with_probe(run, args.seconds, lambda start_at: run_open_loop(
        run.base, webhook_requests(FIRST_ID["ack"]), count, args.rate, args.concurrency, start_at=start_at))
    ratio = _ratio(percentile(ack.due_ms, 99), percentile(healthz.due_ms, 99))
    run.report({"measure": "ack_vs_healthz", "rate": args.rate, "connections": args.concurrency,
                "seconds": args.seconds, "ack": summary(ack.due_ms), "ack_sent": summary(ack.sent_ms),
                "ack_statuses": ack.statuses, "healthz": summary(healthz.due_ms), "healthz_statuses": healthz.statuses,
                "ratio_p99": ratio, "target": "<= 3", "pass": ratio is not None and ratio <= 3
                and set(ack.statuses) == {202}})


def part_burst(run: Run) -> None:
    args = run.args
    run.start_workers()
    if run.open_deliveries() < 300:  # give the workers a backlog, so they are busy during the whole burst
        run_open_loop(run.base, webhook_requests(FIRST_ID["burst"] + 900_000), 300, 150, 4)
    count = int(args.burst_rate * args.burst_seconds)
    ack, healthz = with_probe(run, args.burst_seconds, lambda start_at: run_open_loop(
        run.base, webhook_requests(FIRST_ID["burst"]), count, args.burst_rate, args.concurrency, start_at=start_at))
    p99 = percentile(ack.due_ms, 99)
    run.report({"measure": "burst_ack", "rate": args.burst_rate, "seconds": args.burst_seconds, "workers": 2,
                "connections": args.concurrency, "ack": summary(ack.due_ms), "ack_sent": summary(ack.sent_ms),
                "ack_statuses": ack.statuses, "healthz": summary(healthz.due_ms),
                "target_p99_ms": 250, "pass": p99 <= 250 and set(ack.statuses) == {202}})


def predict_request(i: int):
    body = json.dumps({"subject": SUBJECTS[i % len(SUBJECTS)].format(n=i),
                       "body": f"Hello, ticket {i}. Thanks!", "tags": ["web"]}).encode()
    return "POST", "/predict", body, {"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"}


def classify_only(run: Run) -> dict:
    """Single-ticket /predict on the web, back to back on a few connections for --classify-seconds."""
    args, lock, latencies, statuses = run.args, threading.Lock(), [], {}
    for i in range(20):  # warm-up: the web loads the model on first use
        KeepAlive(run.base, 60).call(*predict_request(i))
    end = time.perf_counter() + args.classify_seconds

    def caller(k: int) -> None:
        connection, i = KeepAlive(run.base, 30), k
        while time.perf_counter() < end:
            began = time.perf_counter()
            status = connection.call(*predict_request(i))
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
            i += args.classify_connections
        connection.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=caller, args=(k,)) for k in range(args.classify_connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    row = {"measure": "classify_only", "connections": args.classify_connections, "seconds": round(elapsed, 1),
           "tickets_per_s": round(statuses.get(200, 0) / elapsed, 1), "latency": summary(latencies),
           "statuses": statuses}
    run.report(row)
    return row


def part_e2e(run: Run) -> None:
    args = run.args
    run.start_workers()
    run.wait_all_drained()
    floor = classify_only(run)
    marker = run.last_delivery_id()
    sent: dict = {}
    began = time.perf_counter()
    sender = threading.Thread(target=lambda: sent.update(result=run_open_loop(
        run.base, webhook_requests(FIRST_ID["e2e"]), args.e2e_tickets, args.e2e_rate, args.concurrency)))
    sender.start()
    killed_at = None
    if not args.no_kill:
        while run.finished(marker) < args.e2e_tickets // 2 and time.perf_counter() - began < DRAIN_LIMIT_SECONDS:
            time.sleep(0.05)
        stop(run.workers[0], signal.SIGKILL)
        killed_at = run.finished(marker)
        time.sleep(2)
        run.workers[0] = start_procfile("worker", run.env, run.workdir, "worker0-restarted")
    sender.join()
    accepted = sent["result"].statuses.get(202, 0)
    run.wait_drained(marker, accepted)
    wall = time.perf_counter() - began
    audit = run.audit(marker, FIRST_ID["e2e"], accepted)
    per_s = round(audit["done"] / audit["span_s"], 1) if audit["span_s"] else 0.0
    ratio = _ratio(per_s, floor["tickets_per_s"])
    run.report({"measure": "e2e_vs_classify", "tickets": args.e2e_tickets, "send_rate": args.e2e_rate,
                "workers": 2, "killed_worker_at_done": killed_at, "e2e_tickets_per_s": per_s,
                "wall_s": round(wall, 1), "classify_tickets_per_s": floor["tickets_per_s"], "ratio": ratio,
                "ack": summary(sent["result"].due_ms), "ack_statuses": sent["result"].statuses, **audit,
                "target": ">= 0.35", "pass": ratio is not None and ratio >= 0.35 and audit["lost"] == 0
                and audit["doubled"] == 0 and audit["done_without_prediction"] == 0})
    for name, rate in (("lat20", 20.0), ("lat100", 100.0)):
        marker = run.last_delivery_id()
        count = int(rate * args.latency_seconds)
        result = run_open_loop(run.base, webhook_requests(FIRST_ID[name]), count, rate, args.concurrency)
        accepted = result.statuses.get(202, 0)
        run.wait_drained(marker, accepted)
        audit = run.audit(marker, FIRST_ID[name], accepted)
        run.report({"measure": "received_to_routed", "rate": rate, "tickets": count, "workers": 2,
                    **audit["received_to_routed"], "lost": audit["lost"], "doubled": audit["doubled"],
                    "ack": summary(result.due_ms), "pass": audit["lost"] == 0 and audit["doubled"] == 0})


def _ratio(ours: float | None, floor: float | None) -> float | None:
    return round(ours / floor, 2) if ours is not None and floor else None


def table(rows: list[dict]) -> str:
    lines = ["| measure | ours | the floor | ratio | target | result |", "|---|---|---|---|---|---|"]
    for row in rows:
        verdict = "" if "pass" not in row else ("PASS" if row["pass"] else "FAIL")
        kind = row["measure"]
        if kind == "ack_vs_healthz":
            lines.append(f"| ack p99 (p50), {row['rate']:.0f}/s | {row['ack']['p99_ms']} ms ({row['ack']['p50_ms']}) | "
                         f"/healthz p99 {row['healthz']['p99_ms']} ms ({row['healthz']['p50_ms']}) | "
                         f"{row['ratio_p99']}x | <= 3x | {verdict} |")
        elif kind == "burst_ack":
            lines.append(f"| burst {row['rate']:.0f}/s x {row['seconds']:.0f} s, 2 workers: ack p99 (p50) | "
                         f"{row['ack']['p99_ms']} ms ({row['ack']['p50_ms']}) | /healthz p99 {row['healthz']['p99_ms']} ms"
                         f" | | <= 250 ms | {verdict} |")
        elif kind == "classify_only":
            lines.append(f"| single-ticket /predict | {row['tickets_per_s']} tickets/s | | | | |")
        elif kind == "e2e_vs_classify":
            lines.append(f"| end to end, web + 2 workers, 1 killed | {row['e2e_tickets_per_s']} tickets/s "
                         f"(lost {row['lost']}, doubled {row['doubled']}) | /predict {row['classify_tickets_per_s']}/s | "
                         f"{row['ratio']} | >= 0.35 | {verdict} |")
        elif kind == "received_to_routed":
            lines.append(f"| received -> routed at {row['rate']:.0f}/s: p50 / p99 | {row['p50_ms']} / {row['p99_ms']} ms"
                         f" | | | | {verdict} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["ack", "burst", "e2e"], action="append",
                        help="run this part only (repeatable); default all three")
    parser.add_argument("--seconds", type=float, default=20, help="ack part duration")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--healthz-rate", type=float, default=20)
    parser.add_argument("--burst-rate", type=float, default=300)
    parser.add_argument("--burst-seconds", type=float, default=5)
    parser.add_argument("--e2e-tickets", type=int, default=3000)
    parser.add_argument("--e2e-rate", type=float, default=200, help="send rate; above the pipeline's speed")
    parser.add_argument("--classify-seconds", type=float, default=10)
    parser.add_argument("--classify-connections", type=int, default=4)
    parser.add_argument("--latency-seconds", type=float, default=20, help="per rate, at 20 and 100 tickets/s")
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    parts = args.only or ["ack", "burst", "e2e"]
    run = Run(args)
    try:
        for name in ("ack", "burst", "e2e"):
            if name in parts:
                {"ack": part_ack, "burst": part_burst, "e2e": part_e2e}[name](run)
    finally:
        run.close()
    print(table(run.rows))
    print(f"logs: {run.workdir}; database {run.database_url}; queue {run.redis_url}")
    return 0 if all(row.get("pass", True) for row in run.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
