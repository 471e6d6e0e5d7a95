"""The dashboard's tables: failed deliveries and model versions with their metrics (drift: admin.drift)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import FAILED, Delivery, ModelVersion

METRIC_KEYS = ("n", "accuracy", "macro_f1", "weighted_f1", "ece", "coverage", "automation_rate")
PROMOTABLE = ("available", "previous", "rejected")  # registry statuses the page offers to promote (by hand)


def failed_deliveries(session: Session, limit: int = 200) -> list[dict]:
    rows = session.scalars(select(Delivery).where(Delivery.state == FAILED).order_by(Delivery.id).limit(limit))
    return [{"id": d.id, "helpdesk": d.helpdesk, "key": d.idempotency_key, "step": d.failed_step or "received",
             "attempts": d.attempts, "error": (d.last_error or "")[:300], "received_at": d.received_at,
             "request_id": d.request_id} for d in rows]


def model_versions(session: Session, registry_versions: list[dict], serving: str | None) -> list[dict]:
    """The store's promotion history merged with the registry's artifacts, newest first."""
    merged: dict[str, dict] = {}
    for manifest in registry_versions:
        merged[manifest["version"]] = {"version": manifest["version"], "status": manifest.get("status"),
                                       "created": manifest.get("created"),
                                       "metrics": pick_metrics(manifest.get("metrics") or {}),
                                       "reason": manifest.get("error"),
                                       "promotable": manifest.get("status") in PROMOTABLE}
    for row in session.scalars(select(ModelVersion)):
        entry = merged.setdefault(row.version, {"version": row.version, "metrics": {}})
        entry["status"] = row.status if entry.get("status") in (None, "available", "previous") else entry["status"]
        entry["created"] = entry.get("created") or row.created_at.isoformat(timespec="seconds")
        entry["metrics"] = entry["metrics"] or pick_metrics(row.metrics or {})
        entry["reason"] = row.reason or entry.get("reason")
        entry["promoted_at"] = row.promoted_at
    if serving and serving not in merged:  # the bundled starter model
        merged[serving] = {"version": serving, "status": "current", "created": None, "metrics": {}, "reason": None}
    for entry in merged.values():
        entry["serving"] = entry["version"] == serving
    return sorted(merged.values(), key=lambda e: str(e.get("created") or ""), reverse=True)


def pick_metrics(metrics: dict) -> dict:
    """The headline figures of a manifest's metrics: top level, or under a key starting with `holdout`,
    `test` or `evaluation` (e.g. the starter's `holdout_20pct_before_refit`)."""
    flat = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
    for key, nested in metrics.items():
        if isinstance(nested, dict) and key.startswith(("holdout", "test", "evaluation")):
            flat = {**nested, **flat}
            break
    return {key: flat[key] for key in METRIC_KEYS if isinstance(flat.get(key), (int, float))}
