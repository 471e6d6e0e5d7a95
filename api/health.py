"""Liveness and readiness for load balancers: alive, and able to take and process work.

`/readyz` also checks, when configured, that each helpdesk with an API and Slack accept our credentials
(`helpdesk:<name>`, `slack`; see `integrations.credentials`: cached a minute, 3 s timeout); a check that
fails names what to fix.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

blueprint = Blueprint("health", __name__)
CREDENTIALS = "triage.credentials"  # app.extensions key of this app's cached credential checks


@blueprint.get("/healthz")
def healthz():
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz():
    runtime = current_app.extensions["triage"]
    checks = {"store": _check(lambda: _ping_store(runtime)), "model": _check(lambda: runtime.models.get() is not None),
              "queue": _check(runtime.queue.ping)}
    ready = all(result == "ok" for result in checks.values())
    for name, result in _credentials(runtime).items():
        checks[name] = result.detail
        ready = ready and result.ready
    response = jsonify(status="ready" if ready else "not_ready", checks=checks)
    response.status_code = 200 if ready else 503
    return response


def _credentials(runtime) -> dict:
    try:
        checks = current_app.extensions.get(CREDENTIALS)
        if checks is None:
            from integrations.credentials import CredentialChecks

            checks = current_app.extensions[CREDENTIALS] = CredentialChecks(runtime.settings, runtime.store)
        return checks.results()
    except Exception as exc:  # a readiness probe reports, it never raises
        from integrations.credentials import CredentialCheck

        return {"credentials": CredentialCheck(False, f"failed: {type(exc).__name__}")}


def _ping_store(runtime) -> bool:
    with runtime.store.engine.connect() as connection:
        return connection.execute(text("SELECT 1")).scalar() == 1


def _check(probe) -> str:
    try:
        return "ok" if probe() else "failed"
    except Exception as exc:  # a readiness probe reports, it never raises
        return f"failed: {type(exc).__name__}"
