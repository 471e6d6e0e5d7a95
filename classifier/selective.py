"""Routing by target precision: the lowest confidence threshold at which the tickets routed automatically
are right at least `target` of the time, chosen on held-out calibrated confidences at training time.

A threshold is chosen on a sample, and a point estimate that just reaches the target on it falls short of it on
new tickets about half the time (the chooser picks the lowest threshold that happens to look good). So a
threshold is kept only where the one-sided lower confidence bound on precision (Wilson, `BOUND_LEVEL`) reaches
the target: the fewer routed rows, the wider the margin.

Per category (the predicted one) where it has at least `MIN_CATEGORY_ROWS` held-out predictions: its own
threshold, chosen the same way, shrunk towards the global one by its number of rows (n / (n + `SHRINK_ROWS`)),
so a category seen 40 times moves the threshold a little and one seen 4,000 times sets its own. The mix is kept
only if, on the held-out rows, the routed tickets' bound still reaches the target with it and it routes at least
as many as the global threshold alone; otherwise every category uses the global threshold. A target no threshold reaches gives 1.0 (route nothing automatically) and `reached` False.
A category with fewer than `MIN_ROUTABLE_EXAMPLES` training tickets is listed in `few_examples`: it is
trained and predicted, but its tickets go to review until a retrain sees enough of them (its held-out
precision rests on a handful of rows). Imported by the web app: no training code here."""
from __future__ import annotations

import math

import numpy as np

FALLBACK_THRESHOLD = 0.7  # a model without a stored threshold (the starter model, older models)
MIN_CATEGORY_ROWS = 30
SHRINK_ROWS = 200  # a category's own threshold counts n / (n + SHRINK_ROWS) against the global one
MIN_ROUTABLE_EXAMPLES = 10
UNREACHABLE = 1.0
BOUND_LEVEL = 0.9  # one-sided: the threshold's precision is at least the target with about this confidence
INTERVAL_LEVEL = 0.95  # two-sided interval `evaluate` reports around the realised precision
SELECTIVE = "selective_"  # model attribute: {"target_precision", "threshold", "reached", "per_category", ...}


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(level))


def wilson_bounds(right, n, level: float = INTERVAL_LEVEL, one_sided: bool = False):
    """(lower, upper) Wilson score bounds on a proportion right / n; arrays in, arrays out. n = 0 gives (0, 1)."""
    right, n = np.asarray(right, dtype=float), np.asarray(n, dtype=float)
    z = _z(level if one_sided else 0.5 + level / 2)
    safe = np.maximum(n, 1.0)
    p = right / safe
    centre = p + z * z / (2 * safe)
    spread = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe))
    scale = 1 + z * z / safe
    lower = np.where(n > 0, (centre - spread) / scale, 0.0)
    upper = np.where(n > 0, (centre + spread) / scale, 1.0)
    return lower, upper


def precision_lower_bound(right, n, level: float = BOUND_LEVEL):
    """One-sided lower confidence bound on precision (Wilson)."""
    return wilson_bounds(right, n, level, one_sided=True)[0]


def choose_threshold(confidence, correct, target: float, level: float | None = BOUND_LEVEL) -> tuple[float, bool]:
    """(smallest t whose routed tickets reach `target` by the lower bound at `level`, whether any t did).
    `level` None compares the point estimate. One sort, then cumulative counts; ties in confidence are
    routed together."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if len(confidence) == 0:
        return UNREACHABLE, False
    order = np.argsort(-confidence, kind="stable")
    ordered = confidence[order]
    right = np.cumsum(correct[order])
    counts = np.arange(1, len(ordered) + 1)
    last_of_tie = np.r_[ordered[1:] != ordered[:-1], True]  # a threshold routes every ticket at its value
    if level is None:
        ok = right >= target * counts - 1e-12
    else:
        ok = precision_lower_bound(right, counts, level) >= target - 1e-12
    ok &= last_of_tie
    if not ok.any():
        return UNREACHABLE, False
    return float(ordered[np.flatnonzero(ok).max()]), True


def choose_thresholds(confidence, predicted, correct, target: float, min_rows: int = MIN_CATEGORY_ROWS,
                      class_counts: dict[str, int] | None = None, level: float = BOUND_LEVEL) -> dict:
    """The global threshold and, per predicted category with at least `min_rows` held-out predictions, its own
    shrunk towards the global one; `class_counts` (training tickets per category) names the categories too small
    to route automatically. `held_out` says what the chosen thresholds route on these rows, with the bound."""
    confidence, predicted = np.asarray(confidence, dtype=float), np.asarray(predicted, dtype=object)
    correct = np.asarray(correct, dtype=bool)
    threshold, reached = choose_threshold(confidence, correct, target, level)
    few = {str(c): int(n) for c, n in (class_counts or {}).items() if n < MIN_ROUTABLE_EXAMPLES}
    per_category = {}
    for category in sorted(set(predicted.tolist()), key=str):
        mask = predicted == category
        n = int(mask.sum())
        if n >= min_rows and reached:
            own, hit = choose_threshold(confidence[mask], correct[mask], target, level)
            weight = n / (n + SHRINK_ROWS)
            per_category[str(category)] = {"threshold": round(threshold + weight * (own - threshold), 6),
                                           "own": own, "reached": hit, "n": n, "weight": round(weight, 4)}
    chosen = {"target_precision": target, "threshold": threshold, "reached": reached, "bound_level": level,
              "n": int(len(confidence)), "min_category_rows": min_rows, "shrink_rows": SHRINK_ROWS,
              "per_category": per_category, "few_examples": few, "min_routable_examples": MIN_ROUTABLE_EXAMPLES}
    held_out = _routed(chosen, predicted, confidence, correct, level)
    if per_category:
        single = _routed({**chosen, "per_category": {}}, predicted, confidence, correct, level)
        if held_out["lower"] is None or held_out["lower"] < target or held_out["n"] < single["n"]:
            chosen["per_category"], chosen["per_category_dropped"] = {}, held_out  # global only
            held_out = single
    chosen["held_out"] = held_out
    return chosen


def _routed(selective: dict, predicted, confidence, correct, level: float) -> dict:
    routed = confidence >= route_limits(selective, predicted)
    n, right = int(routed.sum()), int(correct[routed].sum())
    return {"coverage": round(float(routed.mean()), 4) if len(routed) else None, "n": n,
            "precision": round(right / n, 4) if n else None,
            "lower": round(float(precision_lower_bound(right, n, level)), 4) if n else None}


def route_limits(selective: dict | None, predicted) -> np.ndarray:
    """Each prediction's threshold: infinite for a category too small to route, else its own or the global."""
    if not selective:
        return np.full(len(predicted), FALLBACK_THRESHOLD)
    return np.array([np.inf if too_few_examples(selective, str(c)) is not None else model_threshold(selective, str(c))
                     for c in predicted], dtype=float)


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
    """Routing by the stored thresholds (or the fallback) on evaluated tickets: coverage, the realised precision
    with its two-sided `INTERVAL_LEVEL` interval, and whether the target was met on these tickets."""
    predicted = np.asarray(predicted, dtype=object)
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=bool)
    routed = confidence >= route_limits(selective, predicted)
    n, right = int(routed.sum()), int(correct[routed].sum())
    result = {"target_precision": selective["target_precision"] if selective else None,
              "threshold": selective["threshold"] if selective else FALLBACK_THRESHOLD,
              "coverage": round(float(routed.mean()), 4) if len(routed) else None,
              "accuracy": round(right / n, 4) if n else None,
              "n": n}
    if n:
        lower, upper = wilson_bounds(right, n, INTERVAL_LEVEL)
        result["interval"] = [round(float(lower), 4), round(float(upper), 4)]
        result["interval_level"] = INTERVAL_LEVEL
    if selective and selective.get("per_category"):
        result["per_category"] = {c: round(e["threshold"], 4) for c, e in selective["per_category"].items()}
    if selective:
        result["threshold"] = round(selective["threshold"], 4)
        result["verdict"] = target_verdict(selective, n, right)
    return result


def target_verdict(selective: dict, n: int, right: int) -> dict:
    """Whether the routed tickets met the target precision here, and one sentence that says so plainly."""
    target = selective["target_precision"]
    if not selective.get("reached", True):
        return {"met": None, "status": "out_of_reach",
                "message": f"the target precision {target:.1%} was out of reach on the training data's held-out "
                           "predictions: nothing is routed automatically, every ticket goes to review"}
    if not n:
        return {"met": None, "status": "nothing_routed",
                "message": f"no ticket here reached its threshold for {target:.1%}: nothing was routed"}
    lower, upper = (float(v) for v in wilson_bounds(right, n, INTERVAL_LEVEL))
    shown = f"{right / n:.1%} of {n:,} routed tickets were right ({INTERVAL_LEVEL:.0%} interval {lower:.1%}-{upper:.1%})"
    if right / n >= target:
        return {"met": True, "status": "met", "message": f"target {target:.1%} met: {shown}"}
    plainly = "missed" if upper < target else "missed on these tickets, within sampling noise"
    return {"met": False, "status": "missed" if upper < target else "missed_within_noise",
            "message": f"target {target:.1%} {plainly}: {shown}"}
