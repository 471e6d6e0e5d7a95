"""Auto-route or ask a person: the per-category threshold, the always-review flag, or the conformal set."""
from __future__ import annotations

from dataclasses import dataclass

from classifier.prediction import Prediction
from config.routing import RoutingConfig

AUTO, REVIEW = "auto", "review"


@dataclass(frozen=True)
class Decision:
    action: str  # AUTO | REVIEW
    threshold: float
    reason: str


def decide(prediction: Prediction, routing: RoutingConfig, default_threshold: float) -> Decision:
    entry = routing.route_for(prediction.category)
    threshold = entry.threshold if entry.threshold is not None else default_threshold
    if entry.always_review:
        return Decision(REVIEW, threshold, "always-review category")
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
