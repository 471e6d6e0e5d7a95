"""Memory and CPU of the `web` and `worker` processes, at rest and under the intake benchmark's load,
with the full model loaded in every one of them.

    python bench/resources.py [--db sqlite|postgresql] [--queue inbox|rq] [--rate 200] [--seconds 20] [--model DIR]

`web` is `triage web --processes 2` (TRIAGE_PRELOAD_MODEL=true so each process loads the model at start
and makes one warm-up prediction), `worker` is one `triage worker` (2 threads on the inbox, or RQ), warmed
up with one delivery before "rest" is measured. Samples every 0.5 s with psutil: RSS of
each process tree (the web parent + its server processes) and CPU% (100% = one core fully busy). The load is the
intake benchmark's (`webhook_ack.py`): signed Zendesk deliveries at `--rate`/s from 16 connections.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import requests

from _harness import (REPO, delivery, free_port, open_loop, scratch_services, service_env, start, start_web, stop,
                      summary)

SAMPLE_SECONDS = 0.5


def tree(process: subprocess.Popen) -> list[psutil.Process]:
    root = psutil.Process(process.pid)
    return [root, *root.children(recursive=True)]


def sample(processes: dict[str, subprocess.Popen], seconds: float, stop_event: threading.Event | None = None) -> dict:
    """RSS (MB) and CPU% per role over `seconds` (or until `stop_event`)."""
    trees = {role: tree(p) for role, p in processes.items()}
    for procs in trees.values():
        for proc in procs:
            proc.cpu_percent(None)  # prime the counters
    readings: dict[str, dict[str, list[float]]] = {role: {"rss_mb": [], "cpu_percent": []} for role in trees}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (stop_event and stop_event.is_set()):
        time.sleep(SAMPLE_SECONDS)
        for role, procs in trees.items():
            alive = [p for p in procs if p.is_running()]
            readings[role]["rss_mb"].append(sum(p.memory_info().rss for p in alive) / 2**20)
            readings[role]["cpu_percent"].append(sum(p.cpu_percent(None) for p in alive))
    return {role: {key: {"mean": round(statistics.mean(v), 1), "max": round(max(v), 1)} for key, v in values.items()}
            for role, values in readings.items()}


def per_process_rss(processes: dict[str, subprocess.Popen]) -> dict:
    return {role: [round(p.memory_info().rss / 2**20, 1) for p in tree(proc)] for role, proc in processes.items()}


def wait_for_models(processes: dict[str, subprocess.Popen], workdir: Path, timeout: float = 300) -> None:
    """Every web process and the worker log 'model loaded' once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        web = (workdir / "web.log").read_text(errors="replace").count('"model loaded"')
        worker = (workdir / "worker.log").read_text(errors="replace").count('"model loaded"')
        if web >= 2 and worker >= 1:
            return
        for role, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{role} exited; see {workdir}")
        time.sleep(1)
    raise RuntimeError(f"the model did not load everywhere in {timeout} s; see {workdir}")


def warm_up_worker(base: str, timeout: float = 120) -> None:
    body, headers = delivery(99_000_000, "warm-up")
    assert requests.post(f"{base}/webhooks/zendesk", data=body, headers=headers, timeout=10).status_code == 202
    deadline = time.monotonic() + timeout
    while processed(base) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not process the warm-up delivery")
        time.sleep(0.5)


def model_version(workdir: Path) -> str | None:
    for line in (workdir / "worker.log").read_text(errors="replace").splitlines():
        if '"model loaded"' in line:
            return json.loads(line).get("model_version")
    return None


def processed(base: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("triage_deliveries_processed_total{") and 'outcome="done"' in line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--queue", choices=["inbox", "rq"], default="inbox")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rest-seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--model", type=Path, help="model artifact folder (default: the bundled starter model)")
    args = parser.parse_args()
    workdir, database_url, redis_url = scratch_services(args.db, args.queue, "triage-resources-")
    env = service_env(database_url, workdir, redis_url, TRIAGE_PRELOAD_MODEL="true",
                      PROMETHEUS_MULTIPROC_DIR=str(workdir / "metrics"))
    if args.model:
        env["TRIAGE_STARTER_MODEL"] = str(args.model.resolve())
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], env=env, check=True, cwd=REPO,
                   capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_web(env, port, workdir, workers=2)
    worker = start([sys.executable, "-m", "cli.main", "worker"], env, workdir / "worker.log")
    processes = {"web": web, "worker": worker}
    try:
        wait_for_models(processes, workdir)
        warm_up_worker(base)  # its first prediction loads what the model loads lazily (the encoder)
        time.sleep(5)  # let start-up settle
        rest = sample(processes, args.rest_seconds)
        rest_rss = per_process_rss(processes)
        finished = threading.Event()
        outcome: dict = {}

        def load() -> None:
            latencies, statuses = open_loop(f"{base}/webhooks/zendesk", int(args.rate * args.seconds), args.rate,
                                            args.concurrency)
            outcome.update(statuses=statuses, **summary(latencies))
            finished.set()

        done_before = processed(base)
        started = time.monotonic()
        threading.Thread(target=load, daemon=True).start()
        under_load = sample(processes, args.seconds + 30, finished)
        elapsed = time.monotonic() - started
        done = processed(base) - done_before
    finally:
        stop(worker)
        stop(web)
    print(json.dumps({
        "bench": "resources", "model": model_version(workdir), "db": args.db, "queue": args.queue,
        "web_workers": 2, "worker_threads": 2,
        "rest": rest, "rest_rss_mb_per_process": rest_rss,
        "load": {"rate": args.rate, "seconds": args.seconds, **under_load, "webhook_ack": outcome,
                 "processed_during_load": int(done), "processed_per_second": round(done / elapsed, 1)},
    }))


if __name__ == "__main__":
    main()
