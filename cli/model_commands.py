"""`triage train | evaluate | predict | models` — the classifier's command line.

Progress and data-check reports go to stderr; with `--json`, stdout carries exactly one JSON object.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a classifier from labelled CSV tickets")
    _data_arguments(train, label_repeatable=True)
    train.add_argument("--out", type=Path, help="artifact folder (default: a new version in the registry)")
    train.add_argument("--holdout", type=float, default=0.2, help="stratified holdout share (0: train on all)")
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--alpha", type=float, default=0.05, help="conformal error rate for prediction sets")
    train.add_argument("--members", help="comma list of candidate members (default: all)")
    train.add_argument("--embeddings", choices=("auto", "on", "off"), default="auto",
                       help="sentence-embedding member, from the optional `embeddings` extra "
                            "(auto: on up to 12,000 rows when the extra is installed)")
    train.add_argument("--tune", type=int, default=0, metavar="N", help="run N Optuna trials first (optional `tune` extra)")
    train.add_argument("--tune-budget", type=float, default=300.0, metavar="SECONDS")
    train.add_argument("--promote", action="store_true", help="make the new registry version current")
    train.set_defaults(handler=run_train)

    evaluate = subparsers.add_parser("evaluate", help="score a model on labelled CSV tickets")
    evaluate.add_argument("--model", type=Path, help="artifact folder (default: the registry's current)")
    _data_arguments(evaluate, label_repeatable=False)
    evaluate.add_argument("--report", type=Path, help="write a self-contained HTML report here (optional `explain` extra)")
    evaluate.set_defaults(handler=run_evaluate)

    predict = subparsers.add_parser("predict", help="classify one text and print the prediction as JSON")
    predict.add_argument("--model", type=Path, help="artifact folder (default: the registry's current, else the starter)")
    predict.add_argument("text", help="ticket text ('-' reads stdin)")
    predict.set_defaults(handler=run_predict)

    models = subparsers.add_parser("models", help="list, promote or roll back registry versions")
    actions = models.add_subparsers(dest="models_action", required=True, metavar="ACTION")
    actions.add_parser("list", help="versions and which is current").set_defaults(handler=run_models_list)
    promote = actions.add_parser("promote", help="make a version current")
    promote.add_argument("version")
    promote.set_defaults(handler=run_models_promote)
    actions.add_parser("rollback", help="return to the previous version").set_defaults(handler=run_models_rollback)


def _data_arguments(parser: argparse.ArgumentParser, label_repeatable: bool) -> None:
    parser.add_argument("--data", action="append", required=True, metavar="CSV", help="CSV file (repeatable)")
    parser.add_argument("--text", required=True, metavar="COL[,COL...]", help="text column(s), joined")
    if label_repeatable:
        parser.add_argument("--label", action="append", required=True, metavar="COL",
                            help="label column (repeatable; the first is the main category)")
    else:
        parser.add_argument("--label", required=True, metavar="COL")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _log_to_stderr() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def _fail(message: str) -> int:
    print(f"triage: error: {message}", file=sys.stderr)
    return 2


def _registry():
    from classifier.registry import ModelRegistry
    from config.settings import load_settings

    settings = load_settings()
    return ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)


def _emit(payload: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(payload, default=str))
    else:
        print(json.dumps(payload, indent=2, default=str))


def run_train(args) -> int:
    _log_to_stderr()
    from classifier.artifact import ArtifactError
    from classifier.dataset import DataError
    from classifier.extras import MissingExtra
    from classifier.train_command import train_from_csv

    try:
        result = train_from_csv(args, _registry)
    except (DataError, ArtifactError, MissingExtra, ValueError) as exc:
        return _fail(str(exc))
    _emit(result, args.json)
    return 0


def run_evaluate(args) -> int:
    _log_to_stderr()
    from classifier.artifact import ArtifactError, load_model
    from classifier.dataset import DataError, load_labeled, read_csvs
    from classifier.evaluation import evaluate
    from classifier.extras import MissingExtra, require
    from classifier.registry import RegistryError

    try:
        if args.report:
            require("shap", "--report")  # its SHAP importances: the optional `explain` extra, checked before the work
        model = load_model(args.model) if args.model else _registry().load_current()
        frame = read_csvs(args.data)
        columns = [c.strip() for c in args.text.split(",") if c.strip()]
        data = load_labeled(frame, columns, [args.label], min_classes=1)
        result = evaluate(model, data.tickets, data.labels[args.label], label=args.label)
    except (DataError, ArtifactError, RegistryError, MissingExtra) as exc:
        return _fail(str(exc))
    result["model_version"] = model.version
    result["data_checks"] = {"rows": data.checks["rows"], "used_rows": data.checks["used_rows"]}
    if args.report:
        from classifier.report import write_report

        write_report(args.report, model, result, data.tickets)
    if not args.json:
        result.pop("confusion", None)
    _emit(result, args.json)
    return 0


def run_predict(args) -> int:
    from classifier.artifact import ArtifactError, load_model
    from classifier.registry import RegistryError
    from classifier.ticket import Ticket

    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        model = load_model(args.model) if args.model else _registry().load_current()
    except (ArtifactError, RegistryError) as exc:
        return _fail(str(exc))
    print(json.dumps(model.predict(Ticket(body=text)).to_dict(), default=str))
    return 0


def run_models_list(args) -> int:
    registry = _registry()
    entries = registry.versions()
    rows = [{key: entry.get(key) for key in ("version", "status", "created", "main_label", "data", "metrics",
                                             "reason", "error") if entry.get(key) is not None} for entry in entries]
    current = registry.current_version()
    print(json.dumps({"current": current or "starter", "versions": rows}, indent=2, default=str))
    return 0


def run_models_promote(args) -> int:
    from classifier.artifact import ArtifactError
    from classifier.registry import RegistryError

    try:
        _registry().promote(args.version)
    except (ArtifactError, RegistryError) as exc:
        return _fail(str(exc))
    print(f"current: {args.version}")
    return 0


def run_models_rollback(args) -> int:
    from classifier.registry import RegistryError

    try:
        now = _registry().rollback()
    except RegistryError as exc:
        return _fail(str(exc))
    print(f"current: {now or 'starter'}")
    return 0
