"""What `triage train` does: read and check the data, hold out a stratified share, fit, evaluate,
write the artifact (to --out or a new registry version) and return the JSON summary.

The model keeps the hashes of its training texts (`classifier.evaluation.TRAINING_HASHES`, inside
model.joblib and so covered by its sha256), for `triage evaluate` to count rows it was trained on."""
from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import numpy as np

from classifier.artifact import save_model
from classifier.dataset import holdout_split, load_labeled, read_csvs, report_checks
from classifier.evaluation import TRAINING_HASHES, evaluate, training_overlap
from classifier.progress import Progress, silent
from classifier.selective import fallback_threshold, stored
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


def train_from_csv(args, registry_factory, progress: Progress | None = None) -> dict:
    from config.validation import load_settings

    if not 0 <= args.holdout < 1:
        raise ValueError(f"--holdout must be in [0, 1), got {args.holdout}")
    started = time.perf_counter()
    progress = progress or silent()
    settings = load_settings()
    labels = list(dict.fromkeys(args.label))
    progress.stage("reading data", note=", ".join(Path(p).name for p in args.data))
    data = load_labeled(read_csvs(args.data), split_columns(args.text), labels)
    report_checks(data.checks)
    main = data.labels[labels[0]]
    train_index, test_index = holdout_split(main, args.holdout, args.seed)
    log.info("training on %d rows, holdout %d rows", len(train_index), len(test_index))
    options = TrainOptions(
        target_precision=settings.triage_target_precision, seed=args.seed, alpha=args.alpha, embeddings=args.embeddings, timezone=settings.triage_timezone,
        members=tuple(m.strip() for m in args.members.split(",")) if getattr(args, "members", None) else None,
        profile=getattr(args, "profile", "default"))
    train_tickets = [data.tickets[i] for i in train_index]
    train_labels = {name: values[train_index] for name, values in data.labels.items()}
    if getattr(args, "tune", 0):
        from classifier.tuning import tune

        progress.stage("tuning", note=f"up to {args.tune} trials or {args.tune_budget:.0f} s")
        options.params = tune(train_tickets, train_labels[labels[0]], options, args.tune, args.tune_budget)
    model, training = fit_classifier(train_tickets, train_labels, options, progress)  # keeps its texts' hashes
    test_tickets = [data.tickets[i] for i in test_index]
    threshold = fallback_threshold(settings.triage_confidence_threshold)
    metrics = evaluate(model, test_tickets, main[test_index], threshold=threshold,
                       progress=progress) if len(test_index) else {"n": 0}
    fields = {name: _field_metrics(model, test_tickets, data.labels[name][test_index], name, progress)
              for name in labels[1:]} if len(test_index) else {}
    for name, label_model in zip(labels, model.label_models):
        training["labels"][name]["weights"] = stacking_weights(label_model)
    extra_reference = _drift_reference(model, train_tickets, train_labels[labels[0]], test_tickets)
    progress.stage("saving")
    registry = None
    if args.out:
        folder = Path(args.out)
    else:
        registry = registry_factory()
        folder = registry.new_version_dir()
    summary = {key: metrics.get(key) for key in ("n", "accuracy", "macro_f1", "weighted_f1", "ece", "routed")}
    summary["selective"] = metrics.get("selective")
    manifest = save_model(
        model, folder, version=None if args.out else folder.name,
        data_fingerprint=data_fingerprint([t.text for t in data.tickets], data.labels),
        metrics={"holdout": summary, "fields": fields, "training": _brief(training), "selective": stored(model)},
        extra={"data": {"files": [Path(p).name for p in args.data], "text": args.text, "rows": data.checks["used_rows"],
                        "holdout": args.holdout, "seed": args.seed,
                        "training_text_hashes": int(len(getattr(model, TRAINING_HASHES)))}, **extra_reference})
    promoted = registry is not None and (args.promote or registry.current_version() is None)
    if promoted:
        registry.promote(folder.name)
        log.info("promoted %s to current", folder.name)
    metrics.pop("confusion", None)
    overlap = training_overlap(model, test_tickets)
    return {"model": str(folder), "version": manifest["version"], "promoted": promoted, **metrics, "fields": fields,
            "training": training, "data_checks": data.checks, "holdout_overlap": overlap,
            "seconds": round(time.perf_counter() - started, 1)}


def _drift_reference(model, train_tickets, train_labels, test_tickets) -> dict:
    """The drift check's reference (learning.drift), from the held-out tickets; none without a holdout."""
    if not test_tickets:
        return {}
    from classifier.drift_reference import fit_centroids
    from classifier.drift_profile import reference_profile

    fit_centroids(model, train_tickets, train_labels)
    return {"drift_reference": reference_profile(model, test_tickets)}


def stacking_weights(label_model) -> dict[str, float]:
    """Each kept member's share of the stacker's absolute coefficients (it reads the members' log-probabilities
    side by side, one block of columns per member, all on the same scale); the pool's own member weights."""
    names = list(label_model.members)
    pooled = getattr(label_model.stacker, "member_weights_", None)
    if pooled is not None:
        total = float(np.sum(pooled)) or 1.0
        return {name: round(float(weight / total), 4) for name, weight in zip(names, pooled)}
    coef = np.abs(np.atleast_2d(label_model.stacker.coef_))
    blocks = np.array_split(np.arange(coef.shape[1]), len(names))
    total = coef.sum() or 1.0
    return {name: round(float(coef[:, block].sum() / total), 4) for name, block in zip(names, blocks)}


def _field_metrics(model, tickets, truth, name, progress: Progress) -> dict:
    result = evaluate(model, tickets, truth, label=name, measure_latency=False, progress=progress)
    return {key: result[key] for key in ("n", "accuracy", "macro_f1", "weighted_f1", "ece")}


def _brief(training: dict) -> dict:
    return {"train_seconds": training["train_seconds"], "embedding_model": training["embedding_model"],
            "kept": {name: report["kept"] for name, report in training["labels"].items()},
            "members": {name: report["members"] for name, report in training["labels"].items()},
            "weights": {name: report.get("weights") for name, report in training["labels"].items()}}
