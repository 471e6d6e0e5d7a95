"""Liveness and readiness for load balancers: alive, and able to take and process work."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    runtime = current_app.extensions["triage"]
    checks = {"store": _check(lambda: _ping_store(runtime)), "model": _check(lambda: runtime.models.get() is not None),
              "queue": _check(runtime.queue.ping)}
    ready = all(result == "ok" for result in checks.values())
    response = jsonify(status="ready" if ready else "not_ready", checks=checks)
    response.status_code = 200 if ready else 503
    return response


def _ping_store(runtime) -> bool:
    with runtime.store.engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1


def _check(probe) -> str:
    try:
        return "ok" if probe() else "failed"
    except Exception as exc:  # a readiness probe reports, it never raises
        return f"failed: {type(exc).__name__}"
