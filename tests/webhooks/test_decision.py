"""Auto or review: threshold per category, always-review, conformal sets, and unfamiliar words."""
from __future__ import annotations

import pytest

from classifier.prediction import Prediction
from config.routing import RoutingConfig
from webhooks.decision import AUTO, REVIEW, decide


def prediction(confidence: float, coverage: float | None = 1.0, category: str = "Billing",
               prediction_set: tuple[str, ...] = ("Billing",)) -> Prediction:
    derived = {} if coverage is None else {"vocabulary_coverage": coverage}
    return Prediction(category=category, confidence=confidence, probabilities={category: confidence},
                      explanation=[], model_version="v", prediction_set=list(prediction_set), derived=derived)


ROUTING = RoutingConfig.model_validate({"categories": {"Billing": {"threshold": 0.9}, "Legal": {"always_review": True}}})


@pytest.mark.parametrize("given, action, reason_starts", [
    (prediction(0.95), AUTO, "confidence 0.95 >= 0.90"),
    (prediction(0.85), REVIEW, "confidence 0.85 < 0.90"),
    (prediction(0.99, category="Legal", prediction_set=("Legal",)), REVIEW, "always-review"),
    (prediction(0.99, coverage=0.25), REVIEW, "unfamiliar words: 25%"),
    (prediction(0.99, coverage=0.5), AUTO, "confidence"),
    (prediction(0.99, coverage=None), AUTO, "confidence"),  # a model that reports no coverage
    (prediction(0.75, category="Other", prediction_set=("Other",)), AUTO, "confidence 0.75 >= 0.70"),
])
def test_the_decision_and_its_reason(given, action, reason_starts):
    decision = decide(given, ROUTING, default_threshold=0.7)
    assert decision.action == action
    assert decision.reason.startswith(reason_starts)


def test_conformal_mode_routes_singleton_sets_only():
    routing = RoutingConfig.model_validate({"mode": "conformal"})
    assert decide(prediction(0.6), routing, 0.7).action == AUTO
    assert decide(prediction(0.99, prediction_set=("Billing", "Refunds")), routing, 0.7).action == REVIEW
