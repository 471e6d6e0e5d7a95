"""What `triage train` does: read and check the data, hold out a stratified share, fit, evaluate,
write the artifact (to --out or a new registry version) and return the JSON summary."""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from classifier.artifact import save_model
from classifier.dataset import holdout_split, load_labeled, read_csvs, report_checks
from classifier.evaluation import evaluate
from classifier.training import TrainOptions, fit_classifier

log = logging.getLogger(__name__)


def data_fingerprint(texts: list[str], labels: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for i, text in enumerate(texts):
        digest.update(text.encode("utf-8", "replace"))
        for values in labels.values():
            digest.update(b"\x1f" + str(values[i]).encode("utf-8", "replace"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def split_columns(value: str) -> list[str]:
    columns = [column.strip() for column in value.split(",") if column.strip()]
    if not columns:
        raise ValueError("--text names no column")
    return columns


def train_from_csv(args, registry_factory) -> dict:
    from config.settings import load_settings

    if not 0 <= args.holdout < 1:
        raise ValueError(f"--holdout must be in [0, 1), got {args.holdout}")
    settings = load_settings()
    labels = list(dict.fromkeys(args.label))
    data = load_labeled(read_csvs(args.data), split_columns(args.text), labels)
    report_checks(data.checks)
    main = data.labels[labels[0]]
    train_index, test_index = holdout_split(main, args.holdout, args.seed)
    log.info("training on %d rows, holdout %d rows", len(train_index), len(test_index))
    options = TrainOptions(
        seed=args.seed, alpha=args.alpha, embeddings=args.embeddings, timezone=settings.triage_timezone,
        members=tuple(m.strip() for m in args.members.split(",")) if getattr(args, "members", None) else None)
    train_tickets = [data.tickets[i] for i in train_index]
    train_labels = {name: values[train_index] for name, values in data.labels.items()}
    if getattr(args, "tune", 0):
        from classifier.tuning import tune

        options.params = tune(train_tickets, train_labels[labels[0]], options, args.tune, args.tune_budget)
    model, training = fit_classifier(train_tickets, train_labels, options)
    test_tickets = [data.tickets[i] for i in test_index]
    metrics = evaluate(model, test_tickets, main[test_index]) if len(test_index) else {"n": 0}
    fields = {name: _field_metrics(model, test_tickets, data.labels[name][test_index], name)
              for name in labels[1:]} if len(test_index) else {}
    registry = None
    if args.out:
        folder = Path(args.out)
    else:
        registry = registry_factory()
        folder = registry.new_version_dir()
    summary = {key: metrics.get(key) for key in ("n", "accuracy", "macro_f1", "weighted_f1", "ece")}
    manifest = save_model(
        model, folder, version=None if args.out else folder.name,
        data_fingerprint=data_fingerprint([t.text for t in data.tickets], data.labels),
        metrics={"holdout": summary, "fields": fields, "training": _brief(training)},
        extra={"data": {"files": [Path(p).name for p in args.data], "text": args.text, "rows": data.checks["used_rows"],
                        "holdout": args.holdout, "seed": args.seed}})
    if registry is not None and (args.promote or registry.current_version() is None):
        registry.promote(folder.name)
        log.info("promoted %s to current", folder.name)
    metrics.pop("confusion", None)
    return {"model": str(folder), "version": manifest["version"], **metrics, "fields": fields,
            "training": training, "data_checks": data.checks}


def _field_metrics(model, tickets, truth, name) -> dict:
    result = evaluate(model, tickets, truth, label=name, measure_latency=False)
    return {key: result[key] for key in ("n", "accuracy", "macro_f1", "weighted_f1", "ece")}


def _brief(training: dict) -> dict:
    return {"train_seconds": training["train_seconds"], "embedding_model": training["embedding_model"],
            "kept": {name: report["kept"] for name, report in training["labels"].items()},
            "members": {name: report["members"] for name, report in training["labels"].items()}}
