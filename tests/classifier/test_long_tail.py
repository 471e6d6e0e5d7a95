"""Many classes, a long tail and hopeless members: the stacker kinds, first-fold screening, tiny classes."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.metrics import log_loss

from classifier import members as members_module
from classifier import training as training_module
from classifier.dataset import load_labeled
from classifier.members import MemberSpec, rounds
from classifier.pool import LogLinearPool
from classifier.prediction import Prediction
from classifier.selective import MIN_ROUTABLE_EXAMPLES
from classifier.stacking import choose_stacker, held_out_stacker_logits, make_folds
from classifier.training import TrainOptions, fit_classifier
from config.routing import RoutingConfig
from webhooks.decision import AUTO, REVIEW, decide


def _member_scores(y: np.ndarray, n_classes: int, hit_rate: float, seed: int) -> np.ndarray:
    """Probabilities of a member that puts most mass on the right class `hit_rate` of the time."""
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(n_classes), size=len(y)) * 0.3
    guess = np.where(rng.random(len(y)) < hit_rate, y, rng.integers(0, n_classes, len(y)))
    scores[np.arange(len(y)), guess] += 0.7
    return scores / scores.sum(1, keepdims=True)


def _long_tail_labels(n_classes: int, rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_classes + 1) ** 1.2
    return rng.choice(n_classes, size=rows, p=weights / weights.sum())


def test_the_pool_trusts_the_informative_member_and_gives_probabilities():
    y = _long_tail_labels(30, 1_500, seed=1)
    good, noise = _member_scores(y, 30, 0.8, seed=2), _member_scores(y, 30, 0.0, seed=3)
    inputs = np.hstack([np.log(np.clip(s, 1e-4, 1)) for s in (good, noise)])
    pool = LogLinearPool(n_members=2).fit(inputs, y)
    assert pool.member_weights_[0] > 5 * pool.member_weights_[1]
    assert np.allclose(pool.predict_proba(inputs).sum(1), 1.0)
    assert (pool.predict(inputs) == y).mean() > 0.75


def test_with_many_classes_and_few_rows_the_pool_beats_the_multinomial_stacker_held_out():
    y = _long_tail_labels(60, 900, seed=4)
    scores = [_member_scores(y, 60, 0.7, seed=5), _member_scores(y, 60, 0.6, seed=6)]
    folds = make_folds(y, 5, 0)
    kind, losses, chosen = choose_stacker(scores, y, 60, folds, seed=0)
    assert kind == "pool" and losses["pool"] < losses["multinomial"]
    pooled = held_out_stacker_logits(scores, y, 60, folds, 0, "pool")
    assert np.allclose(chosen, pooled)
    assert log_loss(y, np.exp(pooled) / np.exp(pooled).sum(1, keepdims=True), labels=np.arange(60)) == \
        pytest.approx(losses["pool"], abs=1e-3)


def test_boosting_rounds_shrink_with_classes_but_trees_per_fit_grow_slowly():
    assert rounds(150, 8) == 150 and rounds(150, 3) == 150
    sizes = [rounds(150, k) for k in (8, 10, 20, 40, 70, 200)]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= members_module.MIN_ROUNDS
    assert rounds(150, 70) * 70 <= 3 * 150 * 8


@pytest.fixture
def with_a_hopeless_member(monkeypatch):
    """A candidate member that always answers the most frequent class, cheap so that it runs early."""
    hopeless = MemberSpec("hopeless", "sparse", lambda seed, n, k=8: DummyClassifier(strategy="most_frequent"),
                          cost=1)
    members = (members_module.member_spec("linear_svm"), hopeless, members_module.member_spec("complement_nb"))
    monkeypatch.setattr(members_module, "MEMBERS", members)
    monkeypatch.setattr(training_module, "MEMBERS", members)


def test_a_member_far_behind_after_its_first_fold_is_dropped_there(frame, with_a_hopeless_member):
    data = load_labeled(frame, ["subject", "body"], ["queue"])
    model, report = fit_classifier(data.tickets, data.labels, TrainOptions(embeddings="off"))
    queue = report["labels"]["queue"]
    assert "hopeless" in queue["skipped"] and "first fold accuracy" in queue["skipped"]["hopeless"]["reason"]
    assert queue["skipped"]["hopeless"]["first_fold_accuracy"] < queue["skipped"]["hopeless"]["leader_accuracy"] - 0.06
    assert "hopeless" not in queue["members"] and "hopeless" not in model.label_models[0].members
    assert set(queue["members"]) == {"linear_svm", "complement_nb"}


def test_named_members_are_never_screened(frame, with_a_hopeless_member):
    data = load_labeled(frame, ["subject", "body"], ["queue"])
    _, report = fit_classifier(data.tickets, data.labels,
                               TrainOptions(members=("linear_svm", "hopeless"), embeddings="off"))
    assert "hopeless" in report["labels"]["queue"]["members"] and not report["labels"]["queue"]["skipped"]


def test_a_class_seen_once_trains_predicts_and_always_goes_to_review(frame):
    data = load_labeled(frame, ["subject", "body"], ["queue"])
    labels = data.labels["queue"].copy()
    labels[0], labels[1:4] = "Once", "Thrice"
    tickets = list(data.tickets)
    model, report = fit_classifier(tickets, {"queue": labels},
                                   TrainOptions(members=("linear_svm", "complement_nb"), embeddings="off"))
    selective = report["labels"]["queue"]["selective"]
    assert selective["few_examples"] == {"Once": 1, "Thrice": 3}
    assert {"Once", "Thrice"} <= set(model.labels)
    seen_once = model.predict(tickets[0])
    assert set(seen_once.probabilities) == set(model.labels)
    sure = Prediction(category="Once", confidence=0.99, probabilities={"Once": 0.99}, explanation=[],
                      model_version="v1", prediction_set=["Once"])
    verdict = decide(sure, RoutingConfig(), None, selective)
    assert verdict.action == REVIEW and "only 1 training tickets" in verdict.reason
    big = next(t for t, label in zip(tickets, labels) if label == "Billing")
    ordinary = model.predict(big)
    assert ordinary.category == "Billing" and decide(ordinary, RoutingConfig(), 0.0, selective).action == AUTO
    assert MIN_ROUTABLE_EXAMPLES > 3


def test_a_category_with_few_examples_routes_by_the_routing_file_when_it_names_a_threshold():
    selective = {"target_precision": 0.95, "threshold": 0.5, "per_category": {}, "few_examples": {"Rare": 4}}
    prediction = Prediction(category="Rare", confidence=0.99, probabilities={"Rare": 0.99}, explanation=[],
                            model_version="v1", prediction_set=["Rare"])
    assert decide(prediction, RoutingConfig(), None, selective).action == REVIEW
    routing = RoutingConfig.model_validate({"categories": {"Rare": {"threshold": 0.9}}})
    assert decide(prediction, routing, None, selective).action == AUTO


def test_the_thorough_profile_keeps_every_member_and_adds_a_second_booster_on_large_data():
    from classifier.training import candidate_members

    names = lambda profile, rows, classes: {spec.name for spec in candidate_members(TrainOptions(profile=profile),
                                                                                    rows, classes)}
    assert "random_forest" not in names("default", 30_000, 8) and "lightgbm_small" not in names("default", 30_000, 8)
    assert {"random_forest", "lightgbm_small", "lightgbm"} <= names("thorough", 30_000, 8)
    assert "lightgbm_small" not in names("thorough", 5_000, 8) and "lightgbm_small" not in names("thorough", 30_000, 70)
    assert "random_forest" in names("default", 5_000, 8)
    assert names("thorough", 30_000, 8) == {spec.name for spec in members_module.MEMBERS}


def test_the_probe_says_embeddings_pay_only_when_they_add_to_the_linear_member():
    import scipy.sparse as sp

    from classifier.embedding_probe import embeddings_pay

    rng = np.random.default_rng(0)
    y = rng.integers(0, 6, 600)
    weak_words = sp.csr_matrix(np.eye(6)[np.where(rng.random(600) < 0.5, y, rng.integers(0, 6, 600))]
                               + rng.random((600, 6)) * 0.1)
    telling = np.eye(6)[y] + rng.normal(0, 0.3, (600, 6))
    noise = rng.normal(0, 1, (600, 6))
    pays, figures = embeddings_pay(weak_words, telling, y, seed=0)
    assert pays and figures["gain"] >= figures["min_gain"]
    pays, figures = embeddings_pay(weak_words, noise, y, seed=0)
    assert not pays and figures["accuracy"]["embedding_logreg"] < figures["accuracy"]["linear_svm"]


def test_training_embeds_the_rest_or_drops_embeddings_as_the_probe_says(frame, monkeypatch):
    from classifier import embedding_probe

    monkeypatch.setattr(training_module, "PROBE_MIN_ROWS", 100)
    monkeypatch.setattr(embedding_probe, "PROBE_ROWS", 90)
    data = load_labeled(frame, ["subject", "body"], ["queue"])
    for verdict in (True, False):
        monkeypatch.setattr(training_module, "embeddings_pay", lambda *args, v=verdict, **kw: (v, {"gain": 0.0,
                                                                                                  "min_gain": 0.003}))
        model, report = fit_classifier(data.tickets, data.labels,
                                       TrainOptions(members=("linear_svm", "embedding_logreg"), embeddings="auto"))
        assert report["embedding_probe"]["embedded"] is verdict
        assert (model.featurizer.encoder_ is not None) is verdict
        assert ("embedding_logreg" in report["labels"]["queue"]["members"]) is verdict
        assert model.predict(data.tickets[0]).category in model.labels


def test_an_iteration_cap_is_said_once_in_a_line_not_warned_per_fold(caplog):
    """SAGA capped at 10 passes on 12 classes: no ConvergenceWarning leaves training, one log line per member."""
    import logging
    import warnings

    import pandas as pd
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(400)]
    labels = rng.integers(0, 12, 600)
    texts = [" ".join(rng.choice(words, 30)) + f" topic{label} " + " ".join(rng.choice(words, 5)) for label in labels]
    data = load_labeled(pd.DataFrame({"text": texts, "label": [f"g{v}" for v in labels]}), ["text"], ["label"])
    with caplog.at_level(logging.INFO, logger="classifier"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_classifier(data.tickets, data.labels,
                       TrainOptions(members=("logreg",), embeddings="off", params={"logreg": {"max_iter": 1, "tol": 1e-9}}))
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    capped = [r.getMessage() for r in caplog.records if "iteration cap" in r.getMessage()]
    assert capped and len(capped) <= 2  # out-of-fold (one line for all folds) and the refit
