"""`triage train | evaluate | predict | models` — the classifier's command line.

Progress (a bar on a terminal, one line per stage elsewhere, nothing with `--quiet`), warnings and data-check
reports go to stderr. stdout carries the result: a short table for a person, or with `--json` exactly one
JSON object and nothing else.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

WORST_EXAMPLES = 20  # most confident wrong predictions listed in the report


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
    train.add_argument("--profile", choices=("default", "thorough"), default="default",
                       help="thorough: five folds, every member at any size, embeddings up to 50,000 rows and a "
                            "larger LightGBM; for the weekly retrain (up to about 30 minutes on 40,000 tickets)")
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
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr (warnings still show)")


def _log_to_stderr(progress, debug: bool = False) -> None:
    """Warnings only (the progress reporter says what is happening); `--debug` adds the INFO narration."""
    from classifier.progress import LogHandler

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(LogHandler(progress))
        root.setLevel(logging.INFO if debug else logging.WARNING)


def _fail(message: str) -> int:
    print(f"triage: error: {message}", file=sys.stderr)
    return 2


def _registry():
    from classifier.registry import ModelRegistry
    from config.validation import load_settings

    settings = load_settings()
    return ModelRegistry(settings.triage_model_dir, settings.triage_starter_model)


def _progress(args, title: str):
    """Our reporter; Hugging Face's own bars (loading MiniLM) would only tear it, so they are switched off."""
    import os

    from classifier.progress import Progress

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    progress = Progress.for_command(args.quiet, title)
    _log_to_stderr(progress, getattr(args, "debug", False))
    return progress


def run_train(args) -> int:
    progress = _progress(args, "triage train")
    from classifier.artifact import ArtifactError
    from classifier.dataset import DataError
    from classifier.extras import MissingExtra
    from classifier.progress import warnings_through
    from classifier.summary import train_summary
    from classifier.train_command import train_from_csv

    try:
        with progress, warnings_through(progress):
            result = train_from_csv(args, _registry, progress)
            progress.close("done")
    except (DataError, ArtifactError, MissingExtra, ValueError) as exc:
        return _fail(str(exc))
    print(json.dumps(result, default=str) if args.json else train_summary(result))
    return 0


def run_evaluate(args) -> int:
    progress = _progress(args, "triage evaluate")
    from classifier.artifact import ArtifactError, load_model
    from classifier.dataset import DataError, load_labeled, read_csvs
    from classifier.evaluation import evaluate, training_overlap
    from classifier.extras import MissingExtra, require
    from classifier.progress import warnings_through
    from classifier.registry import RegistryError
    from classifier.selective import fallback_threshold
    from classifier.summary import evaluate_summary, overlap_warning
    from config.validation import load_settings

    try:
        with progress, warnings_through(progress):
            if args.report:
                require("shap", "--report")  # its SHAP importances: the optional `explain` extra, checked before the work
            progress.stage("loading model")
            model = load_model(args.model) if args.model else _registry().load_current()
            progress.stage("reading data", note=", ".join(Path(p).name for p in args.data))
            frame = read_csvs(args.data)
            columns = [c.strip() for c in args.text.split(",") if c.strip()]
            data = load_labeled(frame, columns, [args.label], min_classes=1)
            truth = data.labels[args.label]
            result = evaluate(model, data.tickets, truth, label=args.label,
                              threshold=fallback_threshold(load_settings().triage_confidence_threshold),
                              misclassified=WORST_EXAMPLES if args.report else 0, progress=progress)
            result["model_version"] = model.version
            result["data_checks"] = {"rows": data.checks["rows"], "used_rows": data.checks["used_rows"]}
            progress.stage("overlap with the training data")
            result["overlap"] = training_overlap(model, data.tickets)
            if args.report:
                _write_report(args, model, result, data.tickets, truth, progress)
            progress.close("done")
    except (DataError, ArtifactError, RegistryError, MissingExtra) as exc:
        return _fail(str(exc))
    warning = overlap_warning(result["overlap"], result["n"])
    if warning:
        print(f"triage: {warning}", file=sys.stderr)
    result.pop("misclassified", None)  # ticket texts: in the report only
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(evaluate_summary(result, args.report))
    return 0


def _write_report(args, model, result: dict, tickets: list, truth, progress) -> None:
    """The HTML report, with the model in service scored on the same tickets when it is another version."""
    from classifier.evaluation import evaluate
    from classifier.report import write_report

    if result["data_checks"]["used_rows"] != result["data_checks"]["rows"]:  # rows dropped: positions are not CSV rows
        for example in result.get("misclassified", []):
            example.pop("row", None)
    service, note = _model_in_service(model.version)
    if service is not None and not set(service.labels) & set(truth.tolist()):
        service, note = None, (f"The model in service ({service.version}) knows none of these categories: "
                               "nothing to compare with.")
    service_result = None
    if service is not None:
        progress.stage("model in service", note=service.version)
        service_result = evaluate(service, tickets, truth, label=args.label, measure_latency=False,
                                  threshold=result.get("routed", {}).get("threshold"), progress=progress)
        service_result["model_version"] = service.version
        result["compared_with"] = {key: service_result.get(key) for key in ("model_version", "accuracy", "macro_f1")}
    progress.stage("writing the report", note=str(args.report))
    write_report(args.report, model, result, tickets, service_result, note)


def _model_in_service(evaluated_version: str):
    """(the registry's current model, or the starter when none is current; or None, and why not)."""
    from classifier.artifact import ArtifactError, load_model
    from classifier.registry import RegistryError

    try:
        service = load_model(_registry().current_path())
    except (RegistryError, ArtifactError) as exc:
        return None, f"No model in service to compare with ({exc})."
    if service.version == evaluated_version:
        return None, f"This is the model in service ({service.version}): nothing to compare with."
    return service, ""


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

    registry = _registry()
    was = registry.current_version() or "starter"
    try:
        registry.promote(args.version)
    except (ArtifactError, RegistryError) as exc:
        return _fail(str(exc))
    _mirror_in_store(registry, ("promote", args.version, was, args.version))
    print(f"current: {args.version}")
    return 0


def run_models_rollback(args) -> int:
    from classifier.registry import RegistryError

    registry = _registry()
    was = registry.current_version() or "starter"
    try:
        now = registry.rollback()
    except RegistryError as exc:
        return _fail(str(exc))
    _mirror_in_store(registry, ("rollback", now or "starter", was, now or "starter"))
    print(f"current: {now or 'starter'}")
    return 0


def _mirror_in_store(registry, change: tuple[str, str, str, str]) -> None:
    """The admin page reads `model_versions`: mirror the change now rather than at the clock's next check, and
    write the audit entry (`change`: action, version, current before, current after) under the shell's user.
    Best effort: the registry's pointer is what serves, and the clock mirrors it anyway."""
    from config.validation import load_settings
    from cli.audit_commands import cli_operator
    from learning.promotion import sync_versions
    from store import audit
    from store.database import Store

    try:
        store = Store(load_settings().database_url)
        try:
            sync_versions(store, registry)
            action, version, was, now = change
            with store.session() as session:
                audit.record(session, cli_operator(), action, f"model:{version}", {"current": was},
                             {"current": now}, source=audit.CLI)
        finally:
            store.dispose()
    except Exception as exc:
        print(f"triage: note: the store's list of model versions is not updated yet ({type(exc).__name__}); "
              "the clock's next alert check does it", file=sys.stderr)
