"""Webhook acknowledgement latency under load on loopback: `triage web` (the Procfile's web), 200 requests/s, 16 concurrent.

    python bench/webhook_ack.py [--db sqlite|postgresql] [--seconds 20] [--rate 200] [--concurrency 16]

Target: p99 <= 20 ms. Only the web process runs (acknowledging means: verify, parse, commit, answer).
Latency counts from each request's due time in the open-loop schedule (a stalled server shows its own
queue); `sent` is the same from when the request actually left. `bench/load_ratios.py` puts it next to
/healthz in the same run.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from _harness import (free_port, run_open_loop, scratch_database, service_env, start_web, stop, summary,
                      webhook_requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    database_url = scratch_database(args.db, workdir)
    import subprocess
    import sys

    env = service_env(database_url, workdir)
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], env=env, check=True, cwd=Path(__file__).parent.parent)
    port = free_port()
    web = start_web(env, port, workdir, workers=args.web_workers)
    try:
        base = f"http://127.0.0.1:{port}"
        run_open_loop(base, webhook_requests(10_000_000), 200, 100, 8)  # warm-up
        count = int(args.rate * args.seconds)
        load = run_open_loop(base, webhook_requests(1), count, args.rate, args.concurrency)
    finally:
        stop(web)
    result = {"bench": "webhook_ack", "db": args.db, "rate": args.rate, "concurrency": args.concurrency,
              "statuses": load.statuses, **summary(load.due_ms), "sent": summary(load.sent_ms)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
