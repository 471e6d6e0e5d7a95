"""Hostile text through the whole pipeline, timed against an ordinary ticket.

    python bench/hostile_text.py [--db sqlite|postgresql] [--runs 15] [--only NAME[,NAME...]]

Each case is one signed Zendesk trigger delivery of about 1 MB on the wire (a 1,000,000-character single
word; the texts of tests/text/pathological.py, shortened only where JSON escaping would pass the 1 MiB
request limit), sent through the app (receive: verify, parse, store), then `runtime.pipeline.process` (read,
classify with the bundled model, decide, record, route or queue for review), then `review_message`
rendering of the stored ticket and prediction (what the Slack notifier posts). Each figure is the median
of `--runs` fresh tickets; the ratio is against the median total of as many ordinary tickets, run
alternately with the case's so that both see the same load on the machine.

Target: every case under 3x the ordinary ticket.
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from _harness import REPO, SECRET, scratch_services

sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "text"))
from helpdesk_signing import zendesk_signed_headers  # noqa: E402
from pathological import ORDINARY_BODY, ORDINARY_SUBJECT, SIZE, hostile_texts  # noqa: E402

TARGET_RATIO = 3.0
MAX_BODY_BYTES = 1024 * 1024  # the default TRIAGE_MAX_BODY_BYTES


def payload(ticket_id: int, subject: str, body: str) -> bytes:
    return json.dumps({"ticket_id": str(ticket_id), "subject": subject, "description": body,
                       "requester": "user@example.com", "tags": "web", "created_at": "2026-11-25T10:00:00Z"}).encode()


def fitting(name: str, text: str) -> str:
    """The case's text, shortened (at its own pattern) until the delivery fits the request limit."""
    size = SIZE
    while len(payload(1, ORDINARY_SUBJECT, text)) > MAX_BODY_BYTES - 1024:
        size = int(size * 0.95)
        text = hostile_texts(size)[name]
    return text


def build_app(database_url: str, workdir: Path):
    from app import create_app

    app = create_app({"database_url": database_url, "zendesk_webhook_secret": SECRET,
                      "triage_routing_file": REPO / "config" / "routing.toml",
                      "triage_starter_model": REPO / "models" / "starter", "triage_model_dir": workdir / "models"},
                     env_file=None, workers="elsewhere")  # nothing drains the inbox: we process by hand
    app.extensions["triage"].store.upgrade()
    logging.getLogger().setLevel(logging.ERROR)  # a blank description logs "classifying without fetch"
    return app


def one_ticket(app, client, ticket_id: int, subject: str, body: str) -> dict:
    """Milliseconds of each stage for one fresh ticket."""
    from sqlalchemy import select

    from integrations.slack.messages import review_message
    from store.models import Delivery, PredictionRecord, TicketRecord
    from store.ticket_records import prediction_from_record, ticket_from_record

    runtime = app.extensions["triage"]
    raw = payload(ticket_id, subject, body)
    headers = {"Content-Type": "application/json", **zendesk_signed_headers(SECRET, raw)}
    began = time.perf_counter()
    response = client.post("/webhooks/zendesk", data=raw, headers=headers)
    received = time.perf_counter()
    assert response.status_code == 202, (response.status_code, response.get_data(as_text=True)[:300])
    delivery_id = response.get_json()["delivery_id"]
    state = runtime.pipeline.process(delivery_id, "bench")
    processed = time.perf_counter()
    assert state == "done", state
    with runtime.store.session() as session:
        delivery = session.get(Delivery, delivery_id)
        ticket = ticket_from_record(session.get(TicketRecord, delivery.ticket_id))
        prediction = prediction_from_record(session.scalar(
            select(PredictionRecord).where(PredictionRecord.delivery_id == delivery_id)))
    loaded = time.perf_counter()
    review_message(str(ticket_id), "zendesk", ticket, prediction, SimpleNamespace(
        zendesk_api_url=None, zendesk_subdomain="acme", freshdesk_api_url=None, freshdesk_domain=None))
    rendered = time.perf_counter()
    return {"receive": (received - began) * 1000, "process": (processed - received) * 1000,
            "render": (rendered - loaded) * 1000}


def medians(stages: list[dict]) -> dict:
    figures = {name: statistics.median(s[name] for s in stages) for name in stages[0]}
    figures["total"] = statistics.median(sum(s.values()) for s in stages)
    return figures


def compare(app, client, ids, runs: int, subject: str, body: str) -> tuple[dict, dict]:
    """Medians for the case and for an ordinary ticket, run alternately so both see the same machine load."""
    ordinary, hostile = [], []
    for _ in range(runs):
        ordinary.append(one_ticket(app, client, next(ids), ORDINARY_SUBJECT, ORDINARY_BODY))
        hostile.append(one_ticket(app, client, next(ids), subject, body))
    return medians(ordinary), medians(hostile)


def row(name: str, subject: str, body: str, figures: dict, ratio: float) -> str:
    chars = max(len(subject), len(body))
    return (f"{name:22} {chars:9d} {len(payload(1, subject, body)):9d} {figures['receive']:9.1f} "
            f"{figures['process']:9.1f} {figures['render']:8.2f} {figures['total']:9.1f} {ratio:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", default="", help="comma list of case names (default: all)")
    args = parser.parse_args()
    workdir, database_url, _ = scratch_services(args.db, "inbox", "triage-hostile-")
    app = build_app(database_url, workdir)
    client = app.test_client()
    ids = itertools.count(1)
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    cases = [(name, ORDINARY_SUBJECT, fitting(name, text)) for name, text in hostile_texts().items()
             if not wanted or name in wanted]
    if not wanted or "1 MB subject" in wanted:
        cases.append(("1 MB subject", "s" * SIZE, ORDINARY_BODY))  # fits the request limit as it is
    try:
        compare(app, client, ids, 3, ORDINARY_SUBJECT, ORDINARY_BODY)  # warm: model, encoder, connections
        print(f"{'case':22} {'chars':>9} {'bytes':>9} {'receive':>9} {'process':>9} {'render':>8} {'total ms':>9} "
              f"{'ratio':>7}")
        worst, ordinary_totals = ("", 0.0), []
        for name, subject, body in cases:
            ordinary, figures = compare(app, client, ids, args.runs, subject, body)
            ratio = figures["total"] / ordinary["total"]
            worst = max(worst, (name, ratio), key=lambda pair: pair[1])
            ordinary_totals.append(ordinary["total"])
            print(row(name, subject, body, figures, ratio), flush=True)
        print(f"ordinary ticket: {len(ORDINARY_BODY)} characters, median total "
              f"{statistics.median(ordinary_totals):.1f} ms (each ratio is against the ordinary tickets run "
              f"alternately with that case)")
        verdict = "met" if worst[1] < TARGET_RATIO else "NOT met"
        print(f"target: every case under {TARGET_RATIO:.0f}x the ordinary ticket ({args.db}, median of {args.runs}): "
              f"{verdict}; worst {worst[1]:.2f}x ({worst[0]})")
    finally:
        app.extensions["triage"].close()


if __name__ == "__main__":
    main()
