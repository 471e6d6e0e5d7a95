"""One label's fitted ensemble (serving side): members -> stacker -> temperature -> conformal set."""
from __future__ import annotations

import numpy as np

from classifier.calibration import apply_temperature, prediction_sets
from classifier.features import FeatureViews

LOG_FLOOR = 1e-4  # log-probabilities below this carry no signal and slow the stacker's solver


def stack_inputs(member_scores: list[np.ndarray]) -> np.ndarray:
    """The stacker reads log-probabilities side by side (a weighted product of the members' beliefs)."""
    return np.hstack([np.log(np.clip(scores, LOG_FLOOR, 1.0)) for scores in member_scores])


def stacker_logits(stacker, inputs: np.ndarray, n_classes: int) -> np.ndarray:
    decision = np.asarray(stacker.decision_function(inputs), dtype=np.float64)
    if decision.ndim == 1:
        decision = np.column_stack([-decision / 2, decision / 2])
    logits = np.full((inputs.shape[0], n_classes), -50.0)
    logits[:, stacker.classes_] = decision
    return logits


class LabelModel:
    """Fitted by `classifier.training`; here only what `predict` needs."""

    def __init__(self, name: str, classes: list[str], members: dict, member_views: dict[str, str],
                 stacker, temperature: float, quantile: float, alpha: float,
                 term_weights: np.ndarray, term_names: np.ndarray, singleton_floor: float = 0.0):
        self.name = name
        self.classes = list(classes)
        self.members = members  # member name -> fitted DenseLabels, in stacking order
        self.member_views = member_views
        self.stacker = stacker
        self.temperature = temperature
        self.quantile = quantile
        self.alpha = alpha
        self.singleton_floor = singleton_floor  # a one-category set needs at least this confidence
        self.term_weights = term_weights  # (n_classes, n_terms) linear weights on word TF-IDF
        self.term_names = term_names

    @property
    def needs_embedding(self) -> bool:
        return "embedding" in self.member_views.values()

    def member_scores(self, views: FeatureViews) -> dict[str, np.ndarray]:
        return {name: member.scores(views.view(self.member_views[name])) for name, member in self.members.items()}

    def predict_proba(self, views: FeatureViews) -> np.ndarray:
        inputs = stack_inputs(list(self.member_scores(views).values()))
        return apply_temperature(stacker_logits(self.stacker, inputs, len(self.classes)), self.temperature)

    def sets(self, probabilities: np.ndarray) -> list[list[str]]:
        return [[self.classes[i] for i in row] for row in prediction_sets(probabilities, self.quantile, self.singleton_floor)]

    def explain(self, words_row, class_index: int, top: int = 5) -> list[str]:
        """Terms of this ticket that pushed hardest toward the predicted class (tf-idf x weight)."""
        row = words_row.tocsr()
        if row.nnz == 0:
            return []
        contributions = row.data * self.term_weights[class_index, row.indices]
        order = np.argsort(-contributions)[:top]
        return [str(self.term_names[row.indices[i]]) for i in order if contributions[i] > 0]
