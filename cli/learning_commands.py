"""`triage learning retrain | drift | report`: run the clock's learning jobs once, and see how models fare.

`report` prints one JSON object: the shadow/canary comparison (agreement, accuracy on tickets a person
later labelled, per model version), the latest drift figures and the alerts that are firing.
"""
from __future__ import annotations

import json
import sys


def register(subcommands) -> None:
    learning = subcommands.add_parser("learning", help="retrain now, check drift now, shadow and drift report")
    actions = learning.add_subparsers(dest="learning_action", required=True, metavar="ACTION")
    actions.add_parser("retrain", help="one retrain now: train, judge, promote or reject").set_defaults(
        handler=_retrain)
    actions.add_parser("drift", help="one drift check now (written to drift_checks)").set_defaults(handler=_drift)
    report = actions.add_parser("report", help="shadow/canary comparison, latest drift, active alerts (JSON)")
    report.add_argument("--days", type=int, default=7, help="shadow comparison window")
    report.set_defaults(handler=_report)


def _context():
    from classifier.registry import ModelRegistry
    from cli.service_commands import _settings
    from store.database import Store

    settings = _settings()
    return settings, Store(settings.database_url), ModelRegistry(settings.triage_model_dir,
                                                                 settings.triage_starter_model)


def _retrain(args) -> int:
    from cli.model_commands import _log_to_stderr
    from learning.retrain import RetrainError, retrain

    _log_to_stderr()
    settings, store, registry = _context()
    try:
        result = retrain(settings, store, registry)
    except RetrainError as exc:
        print(f"triage: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"version": result.version, "promoted": result.promoted, "reason": result.reason,
                      "seconds": result.seconds, "data": result.data, "evaluation": result.metrics["evaluation"],
                      "champion": result.metrics["champion"]}, default=str))
    return 0


def _drift(args) -> int:
    from learning.drift import run_check
    from store.types import utcnow

    _, store, registry = _context()
    print(json.dumps(run_check(store, registry, utcnow())))
    return 0


def _report(args) -> int:
    from datetime import timedelta

    from sqlalchemy import func, select

    from learning.shadow import report
    from store.models import AlertState, DriftCheck
    from store.types import utcnow

    settings, store, _ = _context()
    with store.session() as session:
        shadow = report(session, utcnow() - timedelta(days=args.days))
        latest = session.scalar(select(func.max(DriftCheck.checked_at)))
        drift = [{"metric": r.metric, "segment": r.segment, "value": r.value, "n": r.n}
                 for r in session.scalars(select(DriftCheck).where(DriftCheck.checked_at == latest))] if latest else []
        alerts = [{"alert": a.key, "value": a.value, "message": a.message, "since": a.first_seen_at}
                  for a in session.scalars(select(AlertState).where(AlertState.active.is_(True)))]
    print(json.dumps({"shadow": shadow, "drift_checked_at": latest, "drift": drift, "alerts": alerts}, default=str))
    return 0
