"""The README's first command: `triage serve` takes a webhook and routes the ticket, all in one process."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import requests
from sqlalchemy import create_engine, select

from helpdesk_signing import zendesk_signed_headers
from store.models import Delivery, PredictionRecord
from webhook_app import REPO, ZENDESK_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_receives_classifies_and_routes_on_the_embedded_defaults(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "ZENDESK_", "DATABASE_URL", "REDIS_URL"))}
    env.update(ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET, HF_HUB_OFFLINE="1",
               TRIAGE_ROUTING_FILE=str(REPO / "config" / "routing.toml"))
    # run from an empty folder, as a new user would: default SQLite file and model registry land there
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port)], cwd=tmp_path,
                               env={**env, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            time.sleep(0.3)
        body = b'{"ticket_id": "9001", "subject": "refund please", "description": "I want my money back"}'
        headers = {"Content-Type": "application/json", **zendesk_signed_headers(ZENDESK_SECRET, body)}
        answer = requests.post(f"{base}/webhooks/zendesk", data=body, headers=headers, timeout=5)
        assert answer.status_code == 202
        engine = create_engine(f"sqlite:///{tmp_path / 'triage.db'}")
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline and state != "done":
            with engine.connect() as connection:
                state = connection.scalar(select(Delivery.state))
            time.sleep(0.2)
        assert state == "done"
        with engine.connect() as connection:
            assert connection.execute(select(PredictionRecord.category, PredictionRecord.decision)).one() == \
                ("REFUNDS", "auto")
        engine.dispose()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
