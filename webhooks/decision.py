"""Auto-route or ask a person: the per-category threshold, the always-review flag, or the conformal set.

A category the model saw fewer than 10 times in training goes to review unless the routing file names a
threshold for it. Which threshold: the routing file's for the category, else `TRIAGE_CONFIDENCE_THRESHOLD` when it is set
(`default_threshold`), else the model's own for its target precision (per category or global, see
`classifier.selective`), else 0.7 for a model that stores none (the starter model, older models)."""
from __future__ import annotations

from dataclasses import dataclass

from classifier.prediction import Prediction
from classifier.selective import FALLBACK_THRESHOLD, MIN_ROUTABLE_EXAMPLES, model_threshold, too_few_examples
from config.routing import RoutingConfig

AUTO, REVIEW = "auto", "review"


@dataclass(frozen=True)
class Decision:
    action: str  # AUTO | REVIEW
    threshold: float
    reason: str


def threshold_for(category: str, routing: RoutingConfig, default_threshold: float | None,
                  selective: dict | None = None) -> float:
    entry = routing.route_for(category)
    for candidate in (entry.threshold, default_threshold, model_threshold(selective, category)):
        if candidate is not None:
            return candidate
    return FALLBACK_THRESHOLD


def decide(prediction: Prediction, routing: RoutingConfig, default_threshold: float | None,
           selective: dict | None = None) -> Decision:
    """`selective`: the acting model's stored thresholds (`classifier.selective.stored(model)`), if any."""
    entry = routing.route_for(prediction.category)
    threshold = threshold_for(prediction.category, routing, default_threshold, selective)
    if entry.always_review:
        return Decision(REVIEW, threshold, "always-review category")
    few = too_few_examples(selective, prediction.category)
    if few is not None and entry.threshold is None:
        return Decision(REVIEW, threshold, f"only {few} training tickets of this category "
                                           f"(routed automatically from {MIN_ROUTABLE_EXAMPLES})")
    coverage = prediction.derived.get("vocabulary_coverage")
    if coverage is not None and coverage < routing.min_vocabulary_coverage:
        return Decision(REVIEW, threshold, f"unfamiliar words: {coverage:.0%} of them known to the model")
    if routing.mode == "conformal":
        if list(prediction.prediction_set) == [prediction.category]:
            return Decision(AUTO, threshold, "conformal set holds one category")
        return Decision(REVIEW, threshold, f"conformal set holds {len(prediction.prediction_set)} categories")
    if prediction.confidence >= threshold:
        return Decision(AUTO, threshold, f"confidence {prediction.confidence:.2f} >= {threshold:.2f}")
    return Decision(REVIEW, threshold, f"confidence {prediction.confidence:.2f} < {threshold:.2f}")
