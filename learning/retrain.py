"""One retrain: base data plus corrections -> candidate -> scored beside the champion -> promoted or rejected.

Runs in the clock process only (it imports the training code). The candidate is always kept in the
registry, with its metrics, the champion's on the same tickets, and the promotion decision and reason in
its manifest; the store's `model_versions` mirrors the outcome.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import f1_score

from classifier.artifact import ArtifactError, save_model
from classifier.drift_reference import fit_centroids
from classifier.evaluation import predict_field
from classifier.registry import ModelRegistry, RegistryError
from classifier.selective import fallback_threshold, stored
from classifier.train_command import data_fingerprint
from classifier.training import TrainOptions, fit_classifier
from learning import training_set
from classifier.drift_profile import reference_profile
from learning.promotion import decide, record_version
from learning.training_set import Example, TrainingSet
from store.database import Store

log = logging.getLogger(__name__)
LABEL = "category"


class RetrainError(Exception):
    """Nothing to train on, or nothing to judge a candidate on."""


@dataclass
class RetrainResult:
    version: str
    promoted: bool
    reason: str
    metrics: dict
    seconds: float
    data: dict  # rows trained and judged on, corrections, weight, where the base came from


def load_examples(settings, store: Store) -> tuple[list[Example], list[Example], str]:
    """(base, corrections, where the base came from)."""
    with store.session() as session:
        corrected = training_set.corrections(session)
        if settings.triage_train_data:
            base = training_set.base_from_csv(settings.triage_train_data, settings.triage_train_text,
                                              settings.triage_train_label)
            return base, corrected, "csv"
        return training_set.base_from_store(session), corrected, "store"


def score(model, examples: list[Example], threshold: float) -> dict:
    """Accuracy, macro-F1 (over the true categories), recall per category and auto-routed accuracy, from one
    pass of predictions."""
    if not examples:
        return {"n": 0, "accuracy": None, "macro_f1": None, "recall_per_category": {},
                "auto_routed": {"threshold": threshold, "coverage": None, "accuracy": None, "n": 0}}
    truth = np.array([e.label for e in examples], dtype=object)
    predicted, confidence, _ = predict_field(model, [e.ticket for e in examples], None)
    correct = predicted == truth
    routed = confidence >= threshold
    categories = sorted(set(truth.tolist()))
    return {"n": len(truth), "accuracy": round(float(correct.mean()), 4),
            "macro_f1": round(float(f1_score(truth, predicted, labels=categories, average="macro",
                                             zero_division=0)), 4),
            "recall_per_category": {c: round(float(correct[truth == c].mean()), 4) for c in categories},
            "auto_routed": {"threshold": threshold, "coverage": round(float(routed.mean()), 4), "n": int(routed.sum()),
                            "accuracy": round(float(correct[routed].mean()), 4) if routed.any() else None}}


def retrain(settings, store: Store, registry: ModelRegistry, options: TrainOptions | None = None,
            base: list[Example] | None = None) -> RetrainResult:
    """Train, judge and keep a candidate; promote it when the rule allows. `base` overrides the configured data."""
    started = time.perf_counter()
    loaded_base, corrected, source = load_examples(settings, store)
    base = loaded_base if base is None else base
    data = training_set.build(base, corrected, settings.triage_correction_weight)
    if len({e.label for e in data.train}) < 2:
        raise RetrainError(f"need at least two categories to train on, have {len(data.train)} rows")
    if not data.evaluation:
        raise RetrainError("no holdout tickets and no recent corrections to judge a candidate on")
    rows = data.weighted_train()
    log.info("retraining", extra=data.summary())
    model, report = fit_classifier([e.ticket for e in rows], {LABEL: np.array([e.label for e in rows], dtype=object)},
                                   options or TrainOptions(timezone=settings.triage_timezone,
                                                           target_precision=settings.triage_target_precision,
                                                           profile=settings.triage_retrain_profile))
    threshold = fallback_threshold(settings.triage_confidence_threshold)
    metrics = {"evaluation": score(model, data.evaluation, threshold), "holdout": score(model, data.holdout, threshold),
               "recent_corrections": score(model, data.recent, threshold), "selective": stored(model),
               "training": {"train_seconds": report["train_seconds"],
                            "kept": {name: r["kept"] for name, r in report["labels"].items()}}}
    champion = _champion_scores(registry, data, threshold)
    metrics["champion"] = champion
    fit_centroids(model, [e.ticket for e in data.train], [e.label for e in data.train])  # before the reference
    decision = decide(metrics["evaluation"], champion["evaluation"] if champion else None)
    folder = registry.new_version_dir()
    save_model(model, folder, version=folder.name, metrics=metrics,
               data_fingerprint=data_fingerprint([e.ticket.text for e in rows],
                                                 {LABEL: np.array([e.label for e in rows], dtype=object)}),
               extra={"data": {"source": source, **data.summary()},
                      "drift_reference": reference_profile(model, [e.ticket for e in data.holdout or data.train]),
                      "outcome": "promoted" if decision.promote else "rejected", "reason": decision.reason})
    if decision.promote:
        registry.promote(folder.name)
    record_version(store, folder.name, str(folder), "current" if decision.promote else "rejected",
                   metrics, decision.reason)
    seconds = round(time.perf_counter() - started, 1)
    log.info("retrain finished", extra={"version": folder.name, "promoted": decision.promote,
                                        "reason": decision.reason, "seconds": seconds})
    return RetrainResult(folder.name, decision.promote, decision.reason, metrics, seconds,
                         {"source": source, **data.summary()})


def _champion_scores(registry: ModelRegistry, data: TrainingSet, threshold: float) -> dict | None:
    try:
        champion = registry.load_current()
    except (RegistryError, ArtifactError) as exc:
        log.warning("no champion to compare with", extra={"error": str(exc)})
        return None
    return {"version": champion.version, "evaluation": score(champion, data.evaluation, threshold),
            "recent_corrections": score(champion, data.recent, threshold)}
