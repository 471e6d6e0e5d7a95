"""`TicketClassifier`: the object the pipeline and web app call; no training code is imported here."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from threadpoolctl import ThreadpoolController

from classifier.features import TicketFeaturizer, prepare
from classifier.label_model import LabelModel
from classifier.normalisation import VERSION as TEXT_NORMALISATION
from classifier.prediction import FieldPrediction, Prediction
from classifier.ticket import Ticket


@lru_cache(maxsize=1)
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def as_ticket(value: object) -> Ticket:
    """Accept a Ticket, or bare text (anything else becomes its string form)."""
    if isinstance(value, Ticket):
        return value
    return Ticket(body="" if value is None else str(value))


class TicketClassifier:
    # The text normalisation (`classifier.normalisation`) the model was trained with. A model pickled before it
    # existed has none in its state, so this class default applies: 0, its text is read as it was trained.
    text_normalisation: int = 0

    def __init__(self, featurizer: TicketFeaturizer, label_models: list[LabelModel], timezone: str = "UTC",
                 text_normalisation: int = TEXT_NORMALISATION):
        self.featurizer = featurizer
        self.label_models = label_models
        self.timezone = timezone
        self.text_normalisation = text_normalisation
        self.version = "unversioned"
        self.manifest: dict = {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["manifest"], state["version"] = {}, "unversioned"  # the manifest lives beside the file
        return state

    @property
    def labels(self) -> list[str]:
        return list(self.label_models[0].classes)

    @property
    def label_names(self) -> list[str]:
        return [model.name for model in self.label_models]

    def predict(self, ticket: Ticket) -> Prediction:
        return self.predict_batch([ticket])[0]

    def predict_batch(self, tickets: list[Ticket]) -> list[Prediction]:
        tickets = [as_ticket(ticket) for ticket in tickets]
        if not tickets:
            return []
        with _threadpools().limit(limits=1, user_api="blas"):  # see classifier.training.fit_classifier
            return self._predict_batch(tickets)

    def _predict_batch(self, tickets: list[Ticket]) -> list[Prediction]:
        prepared = prepare(tickets, self.timezone, self.text_normalisation)
        need_embedding = any(model.needs_embedding for model in self.label_models)
        views = self.featurizer.transform(prepared, need_embedding=need_embedding)
        main, *others = self.label_models
        probabilities = main.predict_proba(views)
        sets = main.sets(probabilities)
        other_probabilities = [model.predict_proba(views) for model in others]
        coverage = self.featurizer.vocabulary_coverage(prepared.texts)
        distances = centroid_distances(views.embedding, getattr(self, "drift_centroids_", None))
        predictions = []
        for i in range(len(tickets)):
            best = int(np.argmax(probabilities[i]))
            fields = {}
            for model, table in zip(others, other_probabilities):
                top = int(np.argmax(table[i]))
                fields[model.name] = FieldPrediction(
                    value=model.classes[top], confidence=float(table[i, top]),
                    probabilities={c: float(p) for c, p in zip(model.classes, table[i])})
            predictions.append(Prediction(
                category=main.classes[best],
                confidence=float(probabilities[i, best]),
                probabilities={c: float(p) for c, p in zip(main.classes, probabilities[i])},
                explanation=main.explain(views.words[i], best),
                model_version=self.version,
                prediction_set=sets[i],
                fields=fields,
                derived={"language": prepared.languages[i], "sentiment": round(prepared.sentiments[i], 4),
                         "vocabulary_coverage": round(coverage[i], 4),
                         **({"embedding_distance": round(float(distances[i]), 4)} if distances is not None else {})},
            ))
        return predictions


def centroid_distances(embedding: np.ndarray | None, centroids: np.ndarray | None) -> np.ndarray | None:
    """Cosine distance of each ticket's sentence embedding to the nearest training class centroid (a drift
    statistic, see classifier.drift_reference); None for a model without centroids or embeddings."""
    if embedding is None or centroids is None:
        return None
    vectors = embedding[:, :centroids.shape[1]]  # the embedding view ends with the standardised signals
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return 1.0 - (vectors @ centroids.T).max(axis=1)
