"""The process's Prometheus metrics: counters and histograms of what the web and worker processes do.

With several web processes (`triage web --processes N`) and beside `triage worker` processes, set
`PROMETHEUS_MULTIPROC_DIR` to one empty folder before any of them starts: prometheus-client then keeps
these values in files there, and `GET /metrics` adds up every process's files (`telemetry.exposition`).
Gauges that describe the store (queue depth, dead letters, corrections, model version) are not here:
they are read from the store at scrape time (`telemetry.store_collector`), so they are right across
processes and machines.
"""
from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a worker may start before the web made the folder
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# seconds from the webhook's arrival to done; auto-routes take well under a second, Slack posts a few
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0)

WEBHOOK_DELIVERIES = Counter(
    "triage_webhook_deliveries", "Webhook deliveries by helpdesk and what the endpoint answered: accepted, "
    "duplicate, ignored, or the error code (bad_signature, malformed_payload, payload_too_large, ...)",
    ["helpdesk", "outcome"])
DELIVERIES_PROCESSED = Counter(
    "triage_deliveries_processed", "Processing runs by helpdesk and how they ended: done, failed "
    "(dead-lettered), retry (to be tried again: an error or a rate limit), lease_lost", ["helpdesk", "outcome"])
DELIVERY_SECONDS = Histogram(
    "triage_delivery_seconds", "Seconds from the webhook's arrival to the end of its processing (done)",
    ["helpdesk"], buckets=DELIVERY_BUCKETS)
STEP_SECONDS = Histogram(
    "triage_step_seconds", "Seconds one processing step took, by step: classify, write_back, review",
    ["step"], buckets=STEP_BUCKETS)
PREDICTIONS = Counter(
    "triage_predictions", "Predictions by category and decision (auto or review)", ["category", "decision"])
CONFIDENCE = Histogram(
    "triage_prediction_confidence", "Calibrated confidence of each prediction, by decision", ["decision"],
    buckets=CONFIDENCE_BUCKETS)
WRITE_BACKS = Counter(
    "triage_write_backs", "Helpdesk write-backs by helpdesk, kind (route, correction) and outcome: done, "
    "dry_run, rate_limited, retry, failed", ["helpdesk", "kind", "outcome"])
SLACK_POSTS = Counter(
    "triage_review_posts", "Review postings by outcome: posted (Slack), found (an earlier post found again), "
    "queued (no Slack: the store's review queue), rate_limited, retry, failed", ["outcome"])
PREDICT_REFUSED = Counter(
    "triage_predict_refused", "Predict API calls answered without a prediction, by reason: busy (429, every "
    "predict process and queue place taken), time_limit (503, stopped), process_died, model_unavailable",
    ["reason"])


ASSIGNMENTS = Counter(
    "triage_assignments", "Tickets given to an agent by a rule (least_loaded, round_robin), by helpdesk, rule and "
    "outcome: assigned, waiting (nobody had room: the group is written and the ticket waits), taken (a person "
    "assigned it first) or closed", ["helpdesk", "rule", "outcome"])
