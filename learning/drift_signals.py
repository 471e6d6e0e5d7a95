"""Drift signals with thresholds learned from the model's own held-out tickets, for the window size observed.

Four statistics of a window of live predictions, each compared with the reference sketch
(`classifier.drift_reference`): the mean share of words the model never saw (`oov_share`, fires when
high), the mean confidence (`mean_confidence`, fires when low), the predicted-class mix as the total
variation distance from the reference's mix (`class_mix`: the share of tickets that would have to change
category for the two mixes to match, fires when high) and the mean cosine distance to the nearest training
class centroid (`embedding_distance`, models with embeddings only, fires when high).

Threshold: `WINDOWS` same-distribution windows of the observed size n are drawn from the reference beside a
redrawn reference of its own size m (both are samples, so a large window is not held to the reference's
own sampling error); the alarm is the `QUANTILE` of that null distribution. So a same-distribution stream
fires a given statistic on about 0.5% of checks, and a window of 30 tickets needs a larger deviation than
one of 3,000.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_WINDOW = 20  # fewer tickets than this say nothing
WINDOWS = 2_000
QUANTILE = 0.995
# metric -> (statistic in the sketch, alarm side)
MEANS = {"oov_share": ("oov_share", "above"), "mean_confidence": ("confidence", "below"),
         "embedding_distance": ("embedding_distance", "above")}
ORDER = ("oov_share", "mean_confidence", "class_mix", "embedding_distance")


@dataclass(frozen=True)
class Signal:
    metric: str
    value: float
    threshold: float
    normal: float  # the reference's own figure
    side: str  # "above" or "below": where the alarm is
    n: int
    fired: bool


def signals(reference: dict, current: list[dict], seed: int = 0) -> list[Signal]:
    """The signals of `current` per-ticket rows (classifier.drift_reference.per_ticket) against a sketch."""
    found = []
    for metric, (name, side) in MEANS.items():
        values = [row[name] for row in current if row.get(name) is not None]
        grid = (reference.get("quantiles") or {}).get(name)
        if len(values) >= MIN_WINDOW and grid and grid["m"] >= MIN_WINDOW:
            found.append(_mean_signal(metric, side, float(np.mean(values)), len(values), grid, seed))
    counts = reference.get("class_counts") or {}
    if len(current) >= MIN_WINDOW and sum(counts.values()) >= MIN_WINDOW:
        found.append(_mix_signal([row["category"] for row in current], counts, seed))
    return sorted(found, key=lambda s: ORDER.index(s.metric))


def mean_threshold(grid: dict, n: int, side: str, seed: int = 0) -> float:
    """Alarm level of a window mean of n tickets: reference mean + the null's QUANTILE (or 1 - QUANTILE)."""
    values = np.asarray(grid["grid"], dtype=float)
    rng = np.random.default_rng(seed + n)
    uniform = np.full(len(values), 1.0 / len(values))
    window = rng.multinomial(n, uniform, size=WINDOWS) @ values / n
    redrawn = rng.multinomial(int(grid["m"]), uniform, size=WINDOWS) @ values / int(grid["m"])
    quantile = QUANTILE if side == "above" else 1.0 - QUANTILE
    return float(values.mean() + np.quantile(window - redrawn, quantile))


def mix_threshold(counts: dict[str, int], n: int, seed: int = 0) -> float:
    """Alarm level of the total variation distance between a window's class mix and the reference's."""
    shares = np.array(list(counts.values()), dtype=float)
    m = int(shares.sum())
    shares /= m
    rng = np.random.default_rng(seed + n)
    window = rng.multinomial(n, shares, size=WINDOWS) / n
    redrawn = rng.multinomial(m, shares, size=WINDOWS) / m
    return float(np.quantile(0.5 * np.abs(window - redrawn).sum(axis=1), QUANTILE))


def total_variation(categories: list[str], counts: dict[str, int]) -> float:
    m, n = sum(counts.values()), len(categories)
    window: dict[str, int] = {}
    for category in categories:
        window[category] = window.get(category, 0) + 1
    return 0.5 * sum(abs(window.get(c, 0) / n - counts.get(c, 0) / m) for c in set(window) | set(counts))


def _mean_signal(metric: str, side: str, value: float, n: int, grid: dict, seed: int) -> Signal:
    threshold = mean_threshold(grid, n, side, seed)
    fired = value > threshold if side == "above" else value < threshold
    return Signal(metric, round(value, 4), round(threshold, 4), round(float(np.mean(grid["grid"])), 4), side, n,
                  bool(fired))


def _mix_signal(categories: list[str], counts: dict[str, int], seed: int) -> Signal:
    value, threshold = total_variation(categories, counts), mix_threshold(counts, len(categories), seed)
    return Signal("class_mix", round(value, 4), round(threshold, 4), 0.0, "above", len(categories),
                  bool(value > threshold))


def sentence(metric: str, value: float, threshold: float, fired: bool, against: str = "training reference") -> str:
    """One plain sentence on what a signal means, for the admin page and the alert."""
    base = "in training" if against == "training reference" else "the week before"
    if metric == "oov_share":
        if fired:
            return (f"{value:.1%} of the words in this week's tickets were never seen {base} (normal: up to "
                    f"{threshold:.1%}): tickets about something new are arriving; review them and retrain.")
        return f"{value:.1%} of the words in this week's tickets are new to the model: normal (up to {threshold:.1%})."
    if metric == "mean_confidence":
        if fired:
            return (f"The model's average confidence fell to {value:.1%} (normal: at least {threshold:.1%}): it is "
                    f"unsure about this week's tickets and more of them go to review; check what changed and "
                    f"retrain once they are reviewed.")
        return f"Average confidence {value:.1%} is normal (at least {threshold:.1%})."
    if metric == "class_mix":
        if fired:
            return (f"The mix of predicted categories differs from {base.replace('in ', '')} by {value:.1%} of "
                    f"tickets (normal: up to {threshold:.1%}): either the kind of tickets changed or the model is "
                    f"filing new tickets under old categories; check the categories that grew.")
        return f"The mix of predicted categories is normal ({value:.1%} apart, up to {threshold:.1%} is usual)."
    if fired:
        return (f"This week's tickets read farther from every category the model learned (distance {value:.3f}, "
                f"normal: up to {threshold:.3f}): they are about something new; review them and retrain.")
    return f"This week's tickets read like the training tickets (distance {value:.3f}, normal: up to {threshold:.3f})."
