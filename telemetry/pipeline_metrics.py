"""What the pipeline reports to the process's metrics, one call per recorded step (see `telemetry.metrics`)."""
from __future__ import annotations

from datetime import datetime

from store.models import CLASSIFIED, DONE, FAILED, RECEIVED, REVIEW, ROUTED
from store.types import utcnow
from telemetry.metrics import (CONFIDENCE, DELIVERIES_PROCESSED, DELIVERY_SECONDS, PREDICTIONS, SLACK_POSTS,
                               STEP_SECONDS, WRITE_BACKS)

OPEN = (RECEIVED, CLASSIFIED, ROUTED, REVIEW)


def record_prediction(category: str, decision: str, confidence: float, latency_ms: float) -> None:
    PREDICTIONS.labels(category, decision).inc()
    CONFIDENCE.labels(decision).observe(confidence)
    STEP_SECONDS.labels("classify").observe(latency_ms / 1000)


def record_write_back(helpdesk: str, kind: str, dry_run: bool, seconds: float | None = None) -> None:
    WRITE_BACKS.labels(helpdesk, kind, "dry_run" if dry_run else "done").inc()
    if seconds is not None:
        STEP_SECONDS.labels("write_back").observe(seconds)


def record_write_back_failure(helpdesk: str, kind: str, outcome: str) -> None:
    """`outcome`: rate_limited, failed or retry (`integrations.errors.failure_outcome`)."""
    WRITE_BACKS.labels(helpdesk, kind, outcome).inc()


def record_review_post(outcome: str, seconds: float) -> None:
    SLACK_POSTS.labels(outcome).inc()
    STEP_SECONDS.labels("review").observe(seconds)


def record_step_failure(state: str, helpdesk: str, outcome: str) -> None:
    """A failed write-back or review post is counted under its own metric; the delivery's outcome separately."""
    if state == ROUTED:
        record_write_back_failure(helpdesk, "route", outcome)
    elif state == REVIEW:
        SLACK_POSTS.labels(outcome).inc()


def record_processed(helpdesk: str, final_state: str, received_at: datetime | None) -> None:
    """done and failed end a delivery; an open state means it will be tried again (deferred or retry)."""
    if final_state == DONE:
        DELIVERIES_PROCESSED.labels(helpdesk, "done").inc()
        if received_at is not None:
            DELIVERY_SECONDS.labels(helpdesk).observe(max(0.0, (utcnow() - received_at).total_seconds()))
    elif final_state == FAILED:
        DELIVERIES_PROCESSED.labels(helpdesk, "failed").inc()
    elif final_state in OPEN:
        DELIVERIES_PROCESSED.labels(helpdesk, "retry").inc()
    else:  # lease_lost and the like: another worker carries on
        DELIVERIES_PROCESSED.labels(helpdesk, final_state).inc()
