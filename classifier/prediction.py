"""What `predict` returns: the contract between the classifier and the pipeline, API and Slack."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class FieldPrediction:
    """One predicted label field (for example `priority`) beside the main category."""

    value: str
    confidence: float
    probabilities: dict[str, float]


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float  # calibrated: among tickets with confidence ~p, about p are right
    probabilities: dict[str, float]  # every category of the main label
    explanation: list[str]  # terms or features that drove this prediction, strongest first
    model_version: str
    prediction_set: list[str] = field(default_factory=list)  # split-conformal set at the model's alpha
    fields: dict[str, FieldPrediction] = field(default_factory=dict)  # further labels (--label ...)
    derived: dict[str, object] = field(default_factory=dict)  # language, sentiment

    def top_k(self, k: int = 3) -> list[tuple[str, float]]:
        ranked = sorted(self.probabilities.items(), key=lambda item: item[1], reverse=True)
        return ranked[:k]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["top_k"] = [{"category": c, "confidence": p} for c, p in self.top_k()]
        return data
