"""A burst of auto-routed tickets written back to a fake Zendesk that answers 429 to a share of calls and
allows `limit` ticket updates per `period` seconds, while the web process takes webhooks.

    python bench/write_back_burst.py [--tickets 1000] [--period 60] [--limit 100] [--random-429 0.2]
                                     [--threads 8] [--db sqlite|postgresql]

Checks: every ticket updated exactly once, never more than `limit` update requests reached Zendesk in
any `period` (the fake counts every PUT it receives, refused ones too), and webhook acknowledgement
latency (`triage web`, 20 deliveries/s) during the burst next to a baseline before it.
`--period 6` compresses time tenfold (100 updates per 6 s) for a quick run; the default is real time.
The worker side uses a stand-in model that sends every webhook ticket to review, so no helpdesk call is
made for those and no trained model is needed.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from _harness import REPO, free_port, open_loop, scratch_database, service_env, start_web, stop, summary

sys.path.insert(0, str(REPO / "tests"))
from fake_zendesk import EMAIL, TOKEN, FakeZendesk  # noqa: E402
from routed_deliveries import routed_delivery  # noqa: E402

from classifier.prediction import Prediction  # noqa: E402
from config.routing import load_routing  # noqa: E402
from config.validation import load_settings  # noqa: E402
from integrations.base import StoreReviewQueue  # noqa: E402
from integrations.route import Route  # noqa: E402
from integrations.zendesk.adapter import ZendeskAdapter  # noqa: E402
from integrations.zendesk.client import build_zenpy  # noqa: E402
from store.database import Store  # noqa: E402

ROUTE = Route(category="REFUND", tags=["triage_refund", "billing"], group=100, note="triage: category REFUND")


class ReviewEverything:
    """Stand-in for the model holder: every webhook ticket goes to review (no helpdesk call)."""

    def get(self):
        return self

    def predict(self, ticket) -> Prediction:
        return Prediction(category="FEEDBACK", confidence=0.1, probabilities={"FEEDBACK": 0.1}, explanation=[],
                          model_version="bench-stand-in")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--period", type=float, default=60.0)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--random-429", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--webhook-rate", type=float, default=20.0)
    args = parser.parse_args()

    from webhooks.pipeline import Pipeline, PipelineSettings
    from webhooks.queue import InboxWorkers

    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    database_url = scratch_database(args.db, workdir)
    settings = load_settings({"database_url": database_url, "zendesk_api_url": "http://unused", "zendesk_email": EMAIL,
                              "zendesk_api_token": TOKEN, "zendesk_webhook_secret": "s"}, env_file=None)
    store = Store(settings.database_url)
    store.upgrade()
    fake = FakeZendesk(update_limit=args.limit, random_429=args.random_429, period=args.period).start()
    settings = settings.model_copy(update={"zendesk_api_url": fake.url})
    burst = []
    for n in range(1, args.tickets + 1):
        fake.add_ticket(n, tags=["agent_tag"])
        burst.append(routed_delivery(store, "zendesk", str(n), ROUTE))

    port = free_port()
    web = start_web(service_env(database_url, workdir), port, workdir)
    url = f"http://127.0.0.1:{port}/webhooks/zendesk"
    try:
        baseline, _ = open_loop(url, int(args.webhook_rate * 10), args.webhook_rate, 4, first_id=10_000_000)
        adapter = ZendeskAdapter(build_zenpy(settings, store, updates_per_minute=args.limit, period=args.period))
        pipeline = Pipeline(store, ReviewEverything(), load_routing(REPO / "config" / "routing.toml"),
                            {"zendesk": adapter}, StoreReviewQueue(),
                            PipelineSettings(default_threshold=0.7, max_attempts=5, retry_base_seconds=2.0,
                                             retry_max_seconds=600.0, lease_seconds=60.0))
        workers = InboxWorkers(store, pipeline.process, threads=args.threads, poll_seconds=0.2)
        during: list[float] = []
        finished = threading.Event()

        def webhooks_meanwhile() -> None:
            first = 20_000_000
            while not finished.is_set():
                latencies, _ = open_loop(url, int(args.webhook_rate * 5), args.webhook_rate, 4, first_id=first)
                during.extend(latencies)
                first += 100_000

        started = time.monotonic()
        workers.start()
        sender = threading.Thread(target=webhooks_meanwhile, daemon=True)
        sender.start()
        done = _wait_all_done(store, burst, timeout=args.period * (args.tickets / args.limit) * 3 + 120)
        elapsed = time.monotonic() - started
        finished.set()
        sender.join(30)
        workers.stop()
    finally:
        stop(web)
    puts = fake.calls("PUT")
    statuses: dict[int, int] = {}
    for call in puts:
        statuses[call.status] = statuses.get(call.status, 0) + 1
    applied = [fake.applied.get(n, 0) for n in range(1, args.tickets + 1)]
    notes = [len(fake.comments.get(n, [])) for n in range(1, args.tickets + 1)]
    report = {
        "tickets": args.tickets, "done": done, "seconds": round(elapsed, 1),
        "applied_exactly_once": sum(1 for a in applied if a == 1), "applied_twice_or_more": sum(1 for a in applied if a > 1),
        "notes_exactly_one": sum(1 for c in notes if c == 1),
        "agent_tags_kept": sum(1 for n in range(1, args.tickets + 1) if fake.tickets[n]["tags"][0] == "agent_tag"),
        "update_requests": len(puts), "update_statuses": statuses,
        "all_requests": len(fake.requests), "all_429": len([r for r in fake.requests if r.status == 429]),
        f"max_update_requests_in_any_{args.period:g}s": fake.update_window.peak, "limit": args.limit,
        "updates_per_minute_sustained": round(statuses.get(200, 0) / elapsed * 60, 1),
        "webhook_ack_baseline": summary(baseline), "webhook_ack_during_burst": summary(during) if during else None,
    }
    print(json.dumps(report, indent=2))
    fake.stop()


def _wait_all_done(store: Store, ids: list[int], timeout: float) -> int:
    from sqlalchemy import func, select

    from store.models import DONE, Delivery

    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        with store.session() as session:
            done = session.scalar(select(func.count()).select_from(Delivery)
                                  .where(Delivery.id.in_(ids), Delivery.state == DONE))
        if done == len(ids):
            break
        time.sleep(0.5)
    return done


if __name__ == "__main__":
    main()
