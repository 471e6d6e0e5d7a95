"""End to end: ticket-created deliveries through web + 2 workers to recorded routing decisions, with the
full classifier, one worker killed with SIGKILL in the middle (and restarted).

    python bench/end_to_end.py [--tickets 5000] [--rate 100] [--queue rq|inbox] [--db postgresql|sqlite]

Target: >= 50 tickets/s sustained, zero lost, zero processed twice.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--queue", choices=["rq", "inbox"], default="rq")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    workdir, database_url, redis_url = scratch_services(args.db, args.queue, "triage-e2e-")
    env = service_env(database_url, workdir, redis_url, TRIAGE_LEASE_SECONDS="10", TRIAGE_WORKERS="1")
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], env=env, check=True, cwd=REPO)
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    def done() -> int:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).where(Delivery.state == DONE))

    port = free_port()
    web = start_web(env, port, workdir, workers=1)
    workers = [start_worker(env, workdir, i) for i in range(2)]
    killed = {}
    try:
        time.sleep(8)  # workers load the model
        began = time.perf_counter()
        sender = threading.Thread(target=lambda: killed.update(
            ack=open_loop(f"http://127.0.0.1:{port}/webhooks/zendesk", args.tickets, args.rate, 16)))
        sender.start()
        if not args.no_kill:
            while done() < args.tickets // 2:
                time.sleep(0.05)
            stop(workers[0], signal.SIGKILL)
            killed["at_done"] = done()
            time.sleep(2)
            workers[0] = start_worker(env, workdir, 2)
        sender.join()
        samples = []
        while (count := done()) < args.tickets and time.perf_counter() - began < 1800:
            samples.append((time.perf_counter() - began, count))
            time.sleep(0.5)
        elapsed = time.perf_counter() - began
    finally:
        for process in workers + [web]:
            stop(process)
    latencies, statuses = killed["ack"]
    with engine.connect() as connection:
        final_done = connection.scalar(select(func.count()).where(Delivery.state == DONE))
        total = connection.scalar(select(func.count()).select_from(Delivery))
        retried = connection.scalar(select(func.count()).where(Delivery.attempts > 0))
        doubled = connection.scalar(select(func.count()).select_from(
            select(PredictionRecord.delivery_id).group_by(PredictionRecord.delivery_id)
            .having(func.count() > 1).subquery()))
    print(json.dumps({
        "bench": "end_to_end", "queue": args.queue, "db": args.db, "tickets": args.tickets, "send_rate": args.rate,
        "accepted": statuses.get(202, 0), "statuses": statuses, "stored": total, "done": final_done,
        "lost": args.tickets - final_done, "processed_twice": doubled, "deliveries_with_failed_attempts": retried,
        "killed_worker_at_done": killed.get("at_done"), "elapsed_s": round(elapsed, 1),
        "throughput_per_s": round(final_done / elapsed, 1), "ack": summary(latencies),
    }))


if __name__ == "__main__":
    main()
