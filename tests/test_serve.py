"""The README's first command: `triage serve` takes a webhook and routes the ticket, all in one process,
started from a folder that is not the checkout (the routing file and starter model are found in the project)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, select

from helpdesk_signing import zendesk_signed_headers
from store.models import Delivery, PredictionRecord
from webhook_app import REPO, ZENDESK_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_receives_classifies_and_routes_when_started_from_another_folder(tmp_path):
    port = free_port()
    elsewhere, data = tmp_path / "elsewhere", tmp_path / "data"
    elsewhere.mkdir()
    data.mkdir()
    ours = ("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_", "DATABASE_URL", "REDIS_URL", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    # the database and registry are set (the defaults would be the checkout's own); the routing file and the
    # starter model are the defaults, which must be found in the project, not in the working folder
    env.update(ZENDESK_WEBHOOK_SECRET=ZENDESK_SECRET, HF_HUB_OFFLINE="1",
               DATABASE_URL=f"sqlite:///{data / 'triage.db'}", TRIAGE_MODEL_DIR=str(data / "models"))
    script = Path(sys.executable).with_name("triage")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]
    if not script.exists():
        env["PYTHONPATH"] = str(REPO)
    process = subprocess.Popen([*command, "serve", "--port", str(port)], cwd=elsewhere, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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
        engine = create_engine(f"sqlite:///{data / 'triage.db'}")
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
    assert list(elsewhere.iterdir()) == []  # nothing was looked for or left in the working folder
