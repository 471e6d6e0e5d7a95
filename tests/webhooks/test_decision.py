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


STORED = {"target_precision": 0.95, "threshold": 0.6, "per_category": {"Other": {"threshold": 0.8}}}


@pytest.mark.parametrize("given, setting, threshold", [
    (prediction(0.85), None, 0.9),  # the routing file's threshold for the category wins over the model's
    (prediction(0.75, category="Other"), 0.5, 0.5),  # TRIAGE_CONFIDENCE_THRESHOLD set: it wins over the model's
    (prediction(0.75, category="Other"), None, 0.8),  # otherwise the model's own for the category
    (prediction(0.65, category="Rare"), None, 0.6),  # or its global one for a category without its own
])
def test_an_explicit_threshold_wins_over_the_models_own(given, setting, threshold):
    decision = decide(given, ROUTING, setting, STORED)
    assert decision.threshold == threshold
    assert decision.action == (AUTO if given.confidence >= threshold else REVIEW)


def test_a_model_without_a_stored_threshold_keeps_0_7():
    assert decide(prediction(0.69, category="Other"), ROUTING, None, None).threshold == 0.7
    assert decide(prediction(0.69, category="Other"), ROUTING, None, None).action == REVIEW
