"""The drift reference a model carries: what its per-ticket drift statistics look like on held-out tickets.

Per ticket the model records (in `Prediction.derived`) the share of its content words the TF-IDF vocabulary
never saw (`oov_share`, i.e. 1 - `vocabulary_coverage`) and, when it computes sentence embeddings, the cosine
distance to the nearest class centroid of the training tickets (`embedding_distance`). The reference keeps,
for held-out tickets (not trained on, so as unsure and as new to the model as live tickets), a compact
sketch of each statistic's distribution (`GRID` evenly spaced quantiles), the predicted-class counts and
the number of tickets; `learning.drift_signals` draws same-distribution windows from it to set thresholds.
"""
from __future__ import annotations

import numpy as np

from classifier.features import prepare

GRID = 201  # quantiles kept per statistic: sampling uniformly among them reproduces the distribution
CENTROID_TICKETS = 1_000  # training tickets encoded for the class centroids
STATISTICS = ("oov_share", "confidence", "embedding_distance")
SKETCH_VERSION = 1


def oov_share(derived: dict) -> float | None:
    coverage = (derived or {}).get("vocabulary_coverage")
    return None if coverage is None else round(1.0 - float(coverage), 4)


def per_ticket(category: str, confidence: float, derived: dict | None) -> dict:
    """The statistics of one prediction (None where the prediction did not record one)."""
    distance = (derived or {}).get("embedding_distance")
    return {"category": category, "confidence": float(confidence), "oov_share": oov_share(derived or {}),
            "embedding_distance": None if distance is None else float(distance)}


def sketch(values: list[dict]) -> dict:
    """{"m", "quantiles": {statistic: [GRID values]}, "class_counts": {category: count}} of per-ticket rows."""
    quantiles = {}
    for name in STATISTICS:
        found = np.array([v[name] for v in values if v.get(name) is not None], dtype=float)
        if len(found):
            grid = np.quantile(found, (np.arange(GRID) + 0.5) / GRID)
            quantiles[name] = {"m": int(len(found)), "grid": [round(float(x), 4) for x in grid]}
    counts: dict[str, int] = {}
    for v in values:
        counts[v["category"]] = counts.get(v["category"], 0) + 1
    return {"version": SKETCH_VERSION, "m": len(values), "quantiles": quantiles, "class_counts": counts}


def fit_centroids(model, tickets: list, labels, limit: int = CENTROID_TICKETS) -> None:
    """Set `model.drift_centroids_` (unit-length class centroids of the training tickets' sentence embeddings)
    and `model.drift_centroid_labels_`; nothing when the model computes no embeddings at predict time."""
    if getattr(model.featurizer, "encoder_", None) is None or \
            not any(m.needs_embedding for m in model.label_models):
        return
    labels = np.asarray(labels, dtype=object)
    step = max(1, len(tickets) // limit)
    index = np.arange(0, len(tickets), step)[:limit]
    vectors = model.featurizer.encode(prepare([tickets[i] for i in index], model.timezone, model.text_normalisation))
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    names = sorted(set(labels[index].tolist()))
    centroids = np.vstack([vectors[labels[index] == name].mean(axis=0) for name in names])
    model.drift_centroids_ = (centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
                              ).astype(np.float32)
    model.drift_centroid_labels_ = names
