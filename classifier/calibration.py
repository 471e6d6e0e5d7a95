"""Calibrated confidence and split-conformal prediction sets, both fitted on held-out scores.

Temperature scaling keeps the ranking of the stacker and only fixes over- or under-confidence. The
conformal quantile uses the score 1 - p(true label): a ticket's set holds every category whose
probability clears 1 - q, and with probability >= 1 - alpha the true category is in the set.

Plain split-conformal bounds the miss rate over all tickets, not among the auto-routed ones (those
whose set holds one category). So a singleton below `min_confidence` also gets the runner-up (adding
categories never lowers coverage), where `min_confidence` is the lowest top probability at which the
held-out error among singletons, (errors + 1) / (singletons + 1), stays within alpha.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature T minimising log-loss of softmax(logits / T) on held-out rows."""
    if len(y) == 0:
        return 1.0

    def loss(log_t: float) -> float:
        return -log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(y)), y].mean()

    result = minimize_scalar(loss, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def apply_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(logits / temperature, axis=1)


def conformal_quantile(probabilities: np.ndarray, y: np.ndarray, alpha: float) -> float:
    """Split-conformal threshold q on scores 1 - p(true); finite-sample corrected."""
    n = len(y)
    if n == 0:
        return 1.0
    scores = 1.0 - probabilities[np.arange(n), y]
    level = min(1.0, np.ceil((n + 1) * (1 - alpha)) / n)
    return float(np.quantile(scores, level, method="higher"))


def prediction_sets(probabilities: np.ndarray, quantile: float, min_confidence: float = 0.0) -> list[np.ndarray]:
    """Indices of the categories in each row's set, most likely first."""
    sets = []
    for row in probabilities:
        members = np.flatnonzero(1.0 - row <= quantile)
        members = members[np.argsort(-row[members])]
        if len(members) == 0:  # never empty: adding the top category only raises coverage
            members = np.argsort(-row)[:1]
        if len(members) == 1 and row.max() < min_confidence and len(row) > 1:
            members = np.argsort(-row)[:2]
        sets.append(members)
    return sets


def singleton_threshold(probabilities: np.ndarray, y: np.ndarray, quantile: float, alpha: float) -> float:
    """Lowest top probability at which held-out singletons err at most alpha (finite-sample +1)."""
    if len(y) == 0:
        return 1.0
    top = probabilities.max(axis=1)
    single = (1.0 - probabilities <= quantile).sum(axis=1) <= 1  # empty sets become the top category
    wrong = probabilities.argmax(axis=1) != y
    order = np.argsort(-top[single])
    errors = np.cumsum(wrong[single][order])
    counts = np.arange(1, len(order) + 1)
    ok = (errors + 1) / (counts + 1) <= alpha
    if not ok.any():
        return 1.0 + 1e-9  # nothing can be auto-routed at this error rate
    return float(top[single][order][np.flatnonzero(ok).max()])


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """ECE with equal-width confidence bins: mean |accuracy - confidence| weighted by bin size."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if len(confidence) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total / len(confidence))
