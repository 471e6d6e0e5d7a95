"""`GET /metrics` under the Procfile's `web` (`triage web`, two server processes sharing the port) and a
`triage worker` beside them, all sharing `PROMETHEUS_MULTIPROC_DIR`: every scrape, whichever web process
answers it, shows the same totals."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from helpdesk_signing import zendesk_signed_headers
from metrics_text import samples, value
from procfile_web import start_web, stop_web

REPO = Path(__file__).resolve().parent.parent.parent
SECRET = "multiprocess-test-secret"
DELIVERIES = 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _scrape(base: str) -> dict:
    response = requests.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=10)
    response.raise_for_status()
    return samples(response.text)


def _predictions(scraped: dict) -> float:
    return sum(v for (name, _), v in scraped.items() if name == "triage_predictions_total")


def test_totals_add_up_across_web_processes_and_the_worker_process(tmp_path, starter_model_path):
    metrics_dir = tmp_path / "metrics"  # not created: `triage web` and telemetry.metrics make it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'triage.db'}", ZENDESK_WEBHOOK_SECRET=SECRET, HF_HUB_OFFLINE="1",
               TRIAGE_MODEL_DIR=str(tmp_path / "models"), TRIAGE_STARTER_MODEL=str(starter_model_path),
               TRIAGE_ROUTING_FILE=str(REPO / "config" / "routing.toml"), PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = start_web({**env, "WEB_CONCURRENCY": "2", "PYTHONPATH": str(REPO)}, tmp_path, port)
    worker = _start([sys.executable, "-m", "cli.main", "worker"], env, tmp_path / "worker.log")
    try:
        for n in range(DELIVERIES):  # a new connection each: the two web processes share the load
            body = json.dumps({"ticket_id": str(n + 1), "subject": f"I want a refund for order {n}",
                               "description": "please give me my money back"}).encode()
            response = requests.post(f"{base}/webhooks/zendesk", data=body, timeout=10, headers={
                "Content-Type": "application/json", "Connection": "close", **zendesk_signed_headers(SECRET, body)})
            assert response.status_code == 202

        deadline = time.monotonic() + 180
        while _predictions(_scrape(base)) < DELIVERIES:  # counted in the worker process, served by a web process
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not classify every delivery in time"
            time.sleep(0.5)

        for _ in range(8):  # whichever web process answers, the totals are the same
            scraped = _scrape(base)
            assert value(scraped, "triage_webhook_deliveries_total", helpdesk="zendesk", outcome="accepted") \
                == DELIVERIES
            assert _predictions(scraped) == DELIVERIES
            assert value(scraped, "triage_deliveries_processed_total", helpdesk="zendesk", outcome="done") \
                == DELIVERIES
            assert sum(value(scraped, "triage_queue_depth", state=s)
                       for s in ("received", "classified", "routed", "review")) == 0
        import psutil

        pids = {int(path.stem.rsplit("_", 1)[-1]) for path in metrics_dir.glob("*.db")}
        # tickets run in the worker's child processes (webhooks.isolation): their files count too
        worker_pids = {worker.pid} | {child.pid for child in psutil.Process(worker.pid).children(recursive=True)}
        assert pids & worker_pids and pids - worker_pids, f"the worker's and a web worker's files, got pids {pids}"
    finally:
        stop_web(web)
        _stop(worker)
