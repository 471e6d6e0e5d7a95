"""Stack or plain model: the nested comparison that decides what ships (classifier.candidates), and the model it
ships."""
from __future__ import annotations

import numpy as np
import pytest

from classifier.candidates import MIN_COMPARE_ROWS, STACK, compare


def _scores(y: np.ndarray, right: np.ndarray, rng, n_classes: int = 4, sure: float = 0.7) -> np.ndarray:
    """Probabilities that put `sure` on the true class where `right`, else on a random wrong one."""
    guess = np.where(right, y, (y + rng.integers(1, n_classes, len(y))) % n_classes)
    scores = np.full((len(y), n_classes), (1 - sure) / (n_classes - 1))
    scores[np.arange(len(y)), guess] = sure
    return scores


def test_a_plain_model_as_good_as_the_stack_ships_alone():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 1500)
    right = rng.random(len(y)) < 0.8
    plain = _scores(y, right, rng)
    echo = np.clip(plain + rng.normal(0, 0.02, plain.shape), 1e-3, 1)  # a member that repeats the plain one
    result = compare({"plain_svm": plain, "echo": echo / echo.sum(1, keepdims=True)}, ["plain_svm"], y, 4, seed=1)
    assert result["shipped"] == "plain_svm" and result["best_plain"] == "plain_svm"
    stack, svm = result["candidates"][STACK], result["candidates"]["plain_svm"]
    assert svm["accuracy"] == pytest.approx(right.mean(), abs=1e-4)
    assert abs(svm["stack_minus_this"]) <= 2 * svm["difference_se"]  # no better than noise
    assert result["repeats"] == 2 and len(stack["per_repeat"]) == 2 and result["outer_folds"] == 5
    assert "plain_svm ships" in result["reason"]


def test_a_stack_of_complementary_members_ships_when_it_wins_by_more_than_noise():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 1500)
    first = _scores(y, np.where(y < 2, rng.random(len(y)) < 0.95, rng.random(len(y)) < 0.3), rng)
    second = _scores(y, np.where(y >= 2, rng.random(len(y)) < 0.95, rng.random(len(y)) < 0.3), rng)
    result = compare({"plain_logreg": first, "trees": second}, ["plain_logreg"], y, 4, seed=1)
    assert result["shipped"] == STACK
    plain = result["candidates"]["plain_logreg"]
    assert plain["stack_minus_this"] > 2 * plain["difference_se"] > 0
    assert result["candidates"][STACK]["members_chosen"] == {"plain_logreg": 10, "trees": 10}  # every outer fold


def test_the_best_plain_candidate_is_the_bar():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 1200)
    weak = _scores(y, rng.random(len(y)) < 0.6, rng)
    strong = _scores(y, rng.random(len(y)) < 0.85, rng)
    result = compare({"plain_logreg": weak, "plain_svm": strong}, ["plain_logreg", "plain_svm"], y, 4, seed=3)
    assert result["best_plain"] == "plain_svm" and result["shipped"] in (STACK, "plain_svm")
    assert result["candidates"]["plain_logreg"]["stack_minus_this"] > 0.15


def test_too_few_rows_or_no_plain_candidate_ship_the_stack_and_say_why():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, MIN_COMPARE_ROWS - 1)
    oof = {"plain_svm": _scores(y, rng.random(len(y)) < 0.9, rng, 3)}
    assert compare(oof, ["plain_svm"], y, 3, 0) == {
        "shipped": STACK, "reason": f"{len(y)} rows are too few to tell the stack from a plain model "
                                    f"(at least {MIN_COMPARE_ROWS})"}
    assert compare(oof, [], y, 3, 0)["reason"].startswith("no plain candidate")


def test_training_ships_the_plain_model_alone_when_the_stack_is_no_better_and_serves_its_answers(frame):
    """Three queues any linear model separates: nothing beats the plain SVM, so it ships alone, calibrated, and the
    served answer is the plain SVM's own."""
    from classifier.dataset import load_labeled
    from classifier.features import prepare
    from classifier.pool import SingleMember
    from classifier.summary import comparison_rows
    from classifier.training import TrainOptions, fit_classifier

    data = load_labeled(frame, ["subject", "body"], ["queue"])
    model, report = fit_classifier(data.tickets, data.labels, TrainOptions(
        seed=3, members=("plain_logreg", "plain_svm", "linear_svm", "complement_nb"), embeddings="off"))
    comparison = report["labels"]["queue"]["comparison"]
    assert set(comparison["candidates"]) == {STACK, "plain_logreg", "plain_svm"}
    label_model = model.label_models[0]
    assert comparison["shipped"] in ("plain_logreg", "plain_svm"), comparison["reason"]
    assert list(label_model.members) == [comparison["shipped"]] and isinstance(label_model.stacker, SingleMember)
    assert report["labels"]["queue"]["kept"] == [comparison["shipped"]]
    views = model.featurizer.transform(prepare(data.tickets[:40], model.timezone, model.text_normalisation),
                                       need_embedding=False)
    own = label_model.members[comparison["shipped"]].scores(views.view(label_model.member_views[comparison["shipped"]]))
    served = model.predict_batch(data.tickets[:40])
    assert [p.category for p in served] == [label_model.classes[i] for i in own.argmax(1)]
    assert 0 < label_model.temperature and all(0 < p.confidence <= 1 for p in served)
    rows = comparison_rows(comparison)
    assert rows[1][0] == comparison["shipped"] and rows[1][-1] == "shipped"
