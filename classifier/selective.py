"""Routing by target precision: the lowest confidence threshold at which the tickets routed automatically
are right at least `target` of the time, chosen on held-out calibrated confidences at training time.

Per category (the predicted one) where it has at least `MIN_CATEGORY_ROWS` held-out predictions, globally
otherwise. A target no threshold reaches gives 1.0 (route nothing automatically) and `reached` False.
A category with fewer than `MIN_ROUTABLE_EXAMPLES` training tickets is listed in `few_examples`: it is
trained and predicted, but its tickets go to review until a retrain sees enough of them (its held-out
precision rests on a handful of rows). Imported by the web app: no training code here."""
from __future__ import annotations

import numpy as np

FALLBACK_THRESHOLD = 0.7  # a model without a stored threshold (the starter model, older models)
MIN_CATEGORY_ROWS = 30
MIN_ROUTABLE_EXAMPLES = 10
UNREACHABLE = 1.0
SELECTIVE = "selective_"  # model attribute: {"target_precision", "threshold", "reached", "per_category"}


def choose_threshold(confidence, correct, target: float) -> tuple[float, bool]:
    """(smallest t with accuracy >= target among confidence >= t, whether any t reached it).
    One sort, then cumulative counts; ties in confidence are routed together."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if len(confidence) == 0:
        return UNREACHABLE, False
    order = np.argsort(-confidence, kind="stable")
    ordered = confidence[order]
    right = np.cumsum(correct[order])
    counts = np.arange(1, len(ordered) + 1)
    last_of_tie = np.r_[ordered[1:] != ordered[:-1], True]  # a threshold routes every ticket at its value
    ok = (right >= target * counts - 1e-12) & last_of_tie
    if not ok.any():
        return UNREACHABLE, False
    return float(ordered[np.flatnonzero(ok).max()]), True


def choose_thresholds(confidence, predicted, correct, target: float, min_rows: int = MIN_CATEGORY_ROWS,
                      class_counts: dict[str, int] | None = None) -> dict:
    """The global threshold and one per predicted category with at least `min_rows` held-out predictions;
    `class_counts` (training tickets per category) names the categories too small to route automatically."""
    confidence, predicted = np.asarray(confidence, dtype=float), np.asarray(predicted, dtype=object)
    correct = np.asarray(correct, dtype=bool)
    threshold, reached = choose_threshold(confidence, correct, target)
    per_category = {}
    for category in sorted(set(predicted.tolist()), key=str):
        mask = predicted == category
        if mask.sum() >= min_rows:
            t, hit = choose_threshold(confidence[mask], correct[mask], target)
            per_category[str(category)] = {"threshold": t, "reached": hit, "n": int(mask.sum())}
    few = {str(c): int(n) for c, n in (class_counts or {}).items() if n < MIN_ROUTABLE_EXAMPLES}
    return {"target_precision": target, "threshold": threshold, "reached": reached,
            "n": int(len(confidence)), "min_category_rows": min_rows, "per_category": per_category,
            "few_examples": few, "min_routable_examples": MIN_ROUTABLE_EXAMPLES}


def too_few_examples(selective: dict | None, category: str) -> int | None:
    """Training tickets of this category when too few to route it automatically, else None."""
    return ((selective or {}).get("few_examples") or {}).get(category)


def fallback_threshold(explicit: float | None) -> float:
    """`TRIAGE_CONFIDENCE_THRESHOLD` when set, else 0.7: the single threshold the `routed` figures use."""
    return FALLBACK_THRESHOLD if explicit is None else explicit


def stored(model) -> dict | None:
    return getattr(model, SELECTIVE, None)


def model_threshold(selective: dict | None, category: str) -> float | None:
    """The stored threshold for this predicted category (its own, else the global one); None when none."""
    if not selective:
        return None
    entry = (selective.get("per_category") or {}).get(category)
    return float(entry["threshold"] if entry else selective["threshold"])


def selective_summary(selective: dict | None, predicted, confidence, correct) -> dict:
    """Routing by the stored thresholds (or the fallback) on evaluated tickets: coverage and accuracy."""
    predicted = np.asarray(predicted, dtype=object)
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=bool)
    limits = np.array([np.inf if too_few_examples(selective, str(c)) is not None else model_threshold(selective, str(c))
                       for c in predicted], dtype=float) if selective else np.full(len(predicted), FALLBACK_THRESHOLD)
    routed = confidence >= limits
    result = {"target_precision": selective["target_precision"] if selective else None,
              "threshold": selective["threshold"] if selective else FALLBACK_THRESHOLD,
              "coverage": round(float(routed.mean()), 4) if len(routed) else None,
              "accuracy": round(float(correct[routed].mean()), 4) if routed.any() else None,
              "n": int(routed.sum())}
    if selective and selective.get("per_category"):
        result["per_category"] = {c: round(e["threshold"], 4) for c, e in selective["per_category"].items()}
    if selective:
        result["threshold"] = round(selective["threshold"], 4)
    return result
