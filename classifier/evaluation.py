"""Scores a model on labelled tickets: accuracy, F1, per-class table, ECE, coverage curve, routing at the
threshold, conformal routing and latency. A label the model never saw counts as an error, never a crash.

Also the overlap check: `triage train` keeps the sorted 64-bit hashes of its training texts (cleaned and
case-folded) in the model, so an evaluation can count its rows the model was trained on."""
from __future__ import annotations

import hashlib
import time

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from classifier.calibration import expected_calibration_error
from classifier.model import TicketClassifier
from classifier.normalisation import normalise_text
from classifier.progress import Progress, silent
from classifier.selective import selective_summary, stored
from classifier.text import TEXT_NORMALISATION, normalise
from classifier.ticket import Ticket

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
LATENCY_SAMPLE = 200
BATCH_SIZE = 512
TRAINING_HASHES = "training_text_hashes"  # model attribute: sorted uint64 array, set by classifier.train_command
EXCERPT_CHARS = 200


def text_hash(text: str, text_normalisation: int = TEXT_NORMALISATION) -> int:
    """Of the text cleaned as a model with this text normalisation reads it (so an NFD copy of an NFC training
    ticket counts as trained on, and an older model's hashes still match)."""
    return int.from_bytes(hashlib.blake2b(normalise(text, None, text_normalisation).casefold().encode(
        "utf-8", "replace"), digest_size=8).digest(), "little")


def text_hashes(tickets: list[Ticket], text_normalisation: int = TEXT_NORMALISATION) -> np.ndarray:
    """Sorted distinct hashes of the tickets' cleaned, case-folded texts (8 bytes a ticket)."""
    return np.unique(np.array([text_hash(ticket.text, text_normalisation) for ticket in tickets], dtype=np.uint64))


def training_overlap(model: TicketClassifier, tickets: list[Ticket]) -> dict:
    """How many of these tickets the model was trained on; `rows` None when the model kept no hashes."""
    known = getattr(model, TRAINING_HASHES, None)
    if known is None:
        return {"rows": None, "share": None}
    hashes = np.array([text_hash(ticket.text, model.text_normalisation) for ticket in tickets], dtype=np.uint64)
    found = np.zeros(len(hashes), dtype=bool)
    if len(known) and len(hashes):
        index = np.minimum(np.searchsorted(known, hashes), len(known) - 1)
        found = known[index] == hashes
    return {"rows": int(found.sum()), "share": round(float(found.mean()), 4) if len(hashes) else 0.0}


def predict_field(model: TicketClassifier, tickets: list[Ticket], label: str | None, progress: Progress | None = None):
    """(predicted values, confidences, prediction sets or None) for the main label or a named field."""
    values, confidences, sets = [], [], []
    field = label if label in model.label_names[1:] else None
    progress = progress or silent()
    progress.stage(f"predicting {label or model.label_names[0]}", total=len(tickets), note=f"{len(tickets):,} tickets")
    for start in range(0, len(tickets), BATCH_SIZE):
        batch = tickets[start:start + BATCH_SIZE]
        progress.advance(0, f"{start:,}/{len(tickets):,}")
        for prediction in model.predict_batch(batch):
            if field:
                values.append(prediction.fields[field].value)
                confidences.append(prediction.fields[field].confidence)
            else:
                values.append(prediction.category)
                confidences.append(prediction.confidence)
                sets.append(prediction.prediction_set)
        progress.advance(len(batch))
    return np.array(values, dtype=object), np.array(confidences, dtype=float), (None if field else sets)


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> list[dict]:
    curve = []
    for threshold in THRESHOLDS:
        routed = confidence >= threshold
        curve.append({"threshold": threshold, "coverage": round(float(routed.mean()), 4),
                      "accuracy": round(float(correct[routed].mean()), 4) if routed.any() else None})
    return curve


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> list[dict]:
    """Per confidence bin: how many, their mean confidence and how many were right (the calibration plot)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        chosen = index == b
        count = int(chosen.sum())
        table.append({"low": round(float(edges[b]), 2), "high": round(float(edges[b + 1]), 2), "count": count,
                      "confidence": round(float(confidence[chosen].mean()), 4) if count else None,
                      "accuracy": round(float(correct[chosen].mean()), 4) if count else None})
    return table


def conformal_summary(sets: list[list[str]], truth: np.ndarray, alpha: float) -> dict:
    single = np.array([len(s) == 1 for s in sets])
    covered = np.array([t in s for s, t in zip(sets, truth)])
    routed_right = covered[single]
    return {"alpha": alpha, "coverage": round(float(covered.mean()), 4),
            "auto_routed": round(float(single.mean()), 4),
            "error_among_auto_routed": round(float(1 - routed_right.mean()), 4) if single.any() else None,
            "mean_set_size": round(float(np.mean([len(s) for s in sets])), 3)}


def routed_at(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict:
    """What routing by `TRIAGE_CONFIDENCE_THRESHOLD` would do: the share auto-routed and how many of them are right."""
    routed = confidence >= threshold
    return {"threshold": threshold, "share": round(float(routed.mean()), 4), "n": int(routed.sum()),
            "accuracy": round(float(correct[routed].mean()), 4) if routed.any() else None}


def worst_misclassified(tickets: list[Ticket], truth: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                        top: int) -> list[dict]:
    """The most confident wrong predictions, with a cleaned excerpt of each ticket (not HTML-escaped here)."""
    wrong = np.flatnonzero(predicted != truth)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:top]
    rows = []
    for i in order:
        # one line for a table cell, in the writer's case, without bidi overrides or other invisible characters
        text = " ".join(normalise_text(normalise(tickets[i].text, None, 0), fold_case=False).split())
        rows.append({"row": int(i) + 1, "text": text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else ""),
                     "truth": str(truth[i]), "predicted": str(predicted[i]),
                     "confidence": round(float(confidence[i]), 4)})
    return rows


def latency_ms(model: TicketClassifier, tickets: list[Ticket]) -> dict:
    sample = tickets[:LATENCY_SAMPLE]
    if not sample:
        return {"p50": None, "p99": None}
    model.predict(sample[0])  # warm
    timings = []
    for ticket in sample:
        started = time.perf_counter()
        model.predict(ticket)
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50": round(float(np.percentile(timings, 50)), 2), "p99": round(float(np.percentile(timings, 99)), 2)}


def evaluate(model: TicketClassifier, tickets: list[Ticket], truth: np.ndarray, label: str | None = None,
             measure_latency: bool = True, threshold: float | None = None, misclassified: int = 0,
             progress: Progress | None = None) -> dict:
    """`threshold` adds `routed` (auto-routing at it); `misclassified` > 0 adds that many worst errors."""
    truth = np.asarray(truth, dtype=object)
    if len(tickets) == 0:
        return {"n": 0, "accuracy": None, "macro_f1": None, "weighted_f1": None, "ece": None,
                "per_class": {}, "coverage": [], "latency_ms": {"p50": None, "p99": None}}
    progress = progress or silent()
    predicted, confidence, sets = predict_field(model, tickets, label, progress)
    correct = predicted == truth
    classes = sorted(set(truth.tolist()) | set(predicted.tolist()))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0)
    result = {
        "n": int(len(truth)),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0)), 4),
        "weighted_f1": round(float(f1_score(truth, predicted, average="weighted", zero_division=0)), 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
        "per_class": {c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                          "support": int(s)} for c, p, r, f, s in zip(classes, precision, recall, f1, support)},
        "coverage": coverage_curve(confidence, correct),
        "reliability": reliability(np.asarray(confidence, dtype=float), np.asarray(correct, dtype=bool)),
        "latency_ms": _timed_latency(model, tickets, progress) if measure_latency else {"p50": None, "p99": None},
        "unseen_labels": sorted(set(truth.tolist()) - set(model_classes(model, label))),
    }
    if sets is not None:
        result["conformal"] = conformal_summary(sets, truth, model.label_models[0].alpha)
        result["selective"] = selective_summary(stored(model), predicted, confidence, correct)
    if threshold is not None:
        result["routed"] = routed_at(confidence, correct, threshold)
    if misclassified:
        result["misclassified"] = worst_misclassified(tickets, truth, predicted, confidence, misclassified)
    result["confusion"] = {"labels": classes, "matrix": confusion_matrix(truth, predicted, labels=classes).tolist()}
    return result


def _timed_latency(model: TicketClassifier, tickets: list[Ticket], progress: Progress) -> dict:
    progress.stage("latency", note=f"{min(len(tickets), LATENCY_SAMPLE)} single predictions")
    return latency_ms(model, tickets)


def model_classes(model: TicketClassifier, label: str | None) -> list[str]:
    for label_model in model.label_models[1:]:
        if label_model.name == label:
            return label_model.classes
    return model.labels
