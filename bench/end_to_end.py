"""End to end: ticket-created deliveries through web + 2 workers to recorded routing decisions, with the
full classifier, one worker killed with SIGKILL in the middle (and restarted).

    python bench/end_to_end.py [--tickets 5000] [--rate 100] [--queue rq|inbox] [--db postgresql|sqlite] [--no-kill]

Also prints each ticket's latency from received to routed (Delivery.received_at -> finished_at) p50/p99, and
the pipeline's own throughput from the stored times (first received -> last finished). `run(...)` returns
the same figures as a dict (bench/ratio benches call it).
Target: >= 0.35x single-ticket classify-only tickets/s, zero lost, zero processed twice.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select

from _harness import REPO, free_port, open_loop, scratch_services, service_env, start, start_web, stop, summary

sys.path.insert(0, str(REPO))
from store.models import DONE, Delivery, PredictionRecord  # noqa: E402


def start_worker(env: dict, workdir: Path, index: int) -> subprocess.Popen:
    return start([sys.executable, "-m", "cli.main", "worker"], env, workdir / f"worker{index}.log")


def run(tickets: int = 5000, rate: float = 100, queue: str = "rq", db: str = "postgresql", kill: bool = True,
        workers: int = 2) -> dict:
    """Web + `workers` workers on a scratch store; returns the figures main() prints."""
    workdir, database_url, redis_url = scratch_services(db, queue, "triage-e2e-")
    env = service_env(database_url, workdir, redis_url, TRIAGE_LEASE_SECONDS="10", TRIAGE_WORKERS="1")
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], env=env, check=True, cwd=REPO)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    def done() -> int:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).where(Delivery.state == DONE))

    port = free_port()
    web = start_web(env, port, workdir, workers=1)
    processes = [start_worker(env, workdir, i) for i in range(workers)]
    killed = {}
    try:
        time.sleep(8)  # workers load the model
        began = time.perf_counter()
        sender = threading.Thread(target=lambda: killed.update(
            ack=open_loop(f"http://127.0.0.1:{port}/webhooks/zendesk", tickets, rate, 16)))
        sender.start()
        if kill:
            while done() < tickets // 2:
                time.sleep(0.05)
            stop(processes[0], signal.SIGKILL)
            killed["at_done"] = done()
            time.sleep(2)
            processes[0] = start_worker(env, workdir, workers)
        sender.join()
        while done() < tickets and time.perf_counter() - began < 1800:
            time.sleep(0.2)
        elapsed = time.perf_counter() - began
    finally:
        for process in processes + [web]:
            stop(process)
    latencies, statuses = killed["ack"]
    with engine.connect() as connection:
        final_done = connection.scalar(select(func.count()).where(Delivery.state == DONE))
        total = connection.scalar(select(func.count()).select_from(Delivery))
        retried = connection.scalar(select(func.count()).where(Delivery.attempts > 0))
        doubled = connection.scalar(select(func.count()).select_from(
            select(PredictionRecord.delivery_id).group_by(PredictionRecord.delivery_id)
            .having(func.count() > 1).subquery()))
        times = connection.execute(select(Delivery.received_at, Delivery.finished_at)
                                   .where(Delivery.state == DONE)).all()
    engine.dispose()
    routed_ms = [(finished - received).total_seconds() * 1000 for received, finished in times]
    span = (max(f for _, f in times) - min(r for r, _ in times)).total_seconds() if times else 0.0
    return {
        "bench": "end_to_end", "queue": queue, "db": db, "tickets": tickets, "send_rate": rate, "workers": workers,
        "accepted": statuses.get(202, 0), "statuses": statuses, "stored": total, "done": final_done,
        "lost": tickets - final_done, "processed_twice": doubled, "deliveries_with_failed_attempts": retried,
        "killed_worker_at_done": killed.get("at_done"), "elapsed_s": round(elapsed, 1),
        "throughput_per_s": round(final_done / elapsed, 1),
        "stored_span_s": round(span, 2), "stored_throughput_per_s": round(final_done / span, 1) if span else None,
        "received_to_routed": summary(routed_ms) if routed_ms else None, "ack": summary(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--queue", choices=["rq", "inbox"], default="rq")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args.tickets, args.rate, args.queue, args.db, not args.no_kill, args.workers)))


if __name__ == "__main__":
    main()
