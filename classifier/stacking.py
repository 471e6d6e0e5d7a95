"""Out-of-fold member scores, member selection and the stacker (training side).

Weights are learned, never hand-set: a stacker reads the members' out-of-fold log-probabilities. Two kinds:
a multinomial logistic regression (members x classes x classes coefficients: which member to trust for which
class, worth it with few classes and many rows) and a log-linear pool (`classifier.pool`: one weight per member,
one bias per class, for many classes and few rows); the one with the lower held-out log-loss is used.
A member stays only if adding it lowers the stacker's held-out log-loss by at least `MIN_GAIN` (greedy
forward selection), so a slow member that adds nothing is dropped and never refitted, and its features
never computed at predict time.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Callable

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold

from classifier.label_model import stack_inputs, stacker_logits
from classifier.members import DenseLabels
from classifier.pool import LogLinearPool, SingleMember

log = logging.getLogger(__name__)

MIN_GAIN = 0.003  # log-loss a member must save to earn its place
SELECT_ALL_FOLDS_ROWS = 10_000


def make_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds; classes smaller than the fold count are spread as far as they go."""
    counts = np.bincount(y)
    n_folds = max(2, min(n_folds, int(counts[counts > 0].max())))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has only k members"
        return list(splitter.split(np.zeros(len(y)), y))


def out_of_fold(estimator, X, y: np.ndarray, n_classes: int, folds,
                on_fold: Callable[[int, int], None] | None = None,
                screen: Callable[[float], bool] | None = None) -> np.ndarray | None:
    """Every row's scores from the fold that did not train on it. `on_fold(k, K)` is told after fold k of K
    (progress only). `screen(accuracy)` is asked after the first fold: False stops here and returns None, so
    a member far behind the others costs one fold, not K plus a refit."""
    scores = np.zeros((len(y), n_classes))
    capped = 0
    for k, (train_index, test_index) in enumerate(folds, start=1):
        member = DenseLabels(estimator, n_classes).fit(X[train_index], y[train_index])
        scores[test_index] = member.scores(X[test_index])
        capped += member.capped_
        if on_fold is not None:
            on_fold(k, len(folds))
        if k == 1 and screen is not None and not screen(fold_accuracy(scores, y, test_index)):
            return None
    if capped:
        log.info("%s stopped at its iteration cap in %d of %d folds (it is judged by its out-of-fold score)",
                 _name(estimator), capped, len(folds))
    return scores


def _name(estimator) -> str:
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    return type(final).__name__


def fold_accuracy(scores: np.ndarray, y: np.ndarray, rows: np.ndarray) -> float:
    return float((scores[rows].argmax(1) == y[rows]).mean())


STACKERS = ("multinomial", "pool")
POOL_SELECTION_CLASSES = 12  # above this many classes, members are chosen with the pool (see module doc)


def new_stacker(seed: int, kind: str = "multinomial", n_members: int = 1):
    """`single` is no stacking at all: a plain model shipped alone (classifier.candidates)."""
    if kind == "pool":
        return LogLinearPool(n_members)
    if kind == "single":
        return SingleMember()
    return LogisticRegression(C=1.0, max_iter=300, tol=1e-3, random_state=seed)


def _held_out_folds(member_scores: list[np.ndarray], y: np.ndarray, n_classes: int, folds, seed: int,
                    kind: str = "multinomial"):
    """(test rows, their logits) per fold, from a stacker fitted on the fold's other rows."""
    inputs = stack_inputs(member_scores)
    for train_index, test_index in folds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # judged by its held-out loss, not its solver
            stacker = new_stacker(seed, kind, len(member_scores)).fit(inputs[train_index], y[train_index])
        yield test_index, stacker_logits(stacker, inputs[test_index], n_classes)


def held_out_stacker_logits(member_scores: list[np.ndarray], y: np.ndarray, n_classes: int, folds,
                            seed: int, kind: str = "multinomial") -> np.ndarray:
    """Stacker logits for every row from a stacker that did not see that row."""
    logits = np.zeros((len(y), n_classes))
    for test_index, fold_logits in _held_out_folds(member_scores, y, n_classes, folds, seed, kind):
        logits[test_index] = fold_logits
    return logits


def choose_stacker(member_scores: list[np.ndarray], y: np.ndarray, n_classes: int, folds,
                   seed: int) -> tuple[str, dict, np.ndarray]:
    """The stacker kind with the lower held-out log-loss on these members, both losses, and the winner's
    held-out logits for every row (what calibration reads, so they are not fitted twice)."""
    logits = {kind: held_out_stacker_logits(member_scores, y, n_classes, folds, seed, kind) for kind in STACKERS}
    losses = {kind: held_out_log_loss(found, y, n_classes) for kind, found in logits.items()}
    kind = min(losses, key=losses.get)
    return kind, {name: round(loss, 4) for name, loss in losses.items()}, logits[kind]


def held_out_log_loss(logits: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    from scipy.special import softmax

    return float(log_loss(y, softmax(logits, axis=1), labels=np.arange(n_classes)))


def fit_stacker(member_scores: list[np.ndarray], y: np.ndarray, seed: int, kind: str):
    """The final stacker on every row. The multinomial one may stop short of its tolerance on hard data:
    it is said once, in a line, instead of a warning per fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        stacker = new_stacker(seed, kind, len(member_scores)).fit(stack_inputs(member_scores), y)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        log.info("the %s stacker stopped at its iteration cap before its tolerance", kind)
    return stacker


def _quality(member_scores, y, n_classes, folds, seed, kind: str = "multinomial") -> tuple[float, float]:
    """Held-out log-loss and accuracy over the rows the given folds test (one fold on large data)."""
    parts = list(_held_out_folds(member_scores, y, n_classes, folds, seed, kind))
    truth = np.concatenate([y[test_index] for test_index, _ in parts])
    logits = np.vstack([fold_logits for _, fold_logits in parts])
    return held_out_log_loss(logits, truth, n_classes), accuracy_score(truth, logits.argmax(1))


def selection_stacker(n_classes: int) -> str:
    return "pool" if n_classes > POOL_SELECTION_CLASSES else "multinomial"


def select_members(oof: dict[str, np.ndarray], y: np.ndarray, n_classes: int, folds, seed: int,
                   on_trial: Callable[[list[str]], None] | None = None) -> tuple[list[str], dict]:
    """Greedy forward selection on held-out stacker log-loss; returns names and a per-step report.
    `on_trial(names)` is told before each candidate set is judged (progress only).

    On large data each candidate set is judged on one fold only (stacker fitted on the others): one
    fit per trial keeps selection to seconds on 30k rows."""
    folds = folds if len(y) <= SELECT_ALL_FOLDS_ROWS else folds[:1]
    kind = selection_stacker(n_classes)
    remaining = list(oof)
    chosen: list[str] = []
    best_loss = np.inf
    steps = {}
    while remaining:
        trials = {}
        for name in remaining:
            if on_trial is not None:
                on_trial(chosen + [name])
            trials[name] = _quality([oof[m] for m in chosen + [name]], y, n_classes, folds, seed, kind)
        name = min(trials, key=lambda key: trials[key][0])
        loss, accuracy = trials[name]
        if chosen and best_loss - loss < MIN_GAIN:
            break
        chosen.append(name)
        remaining.remove(name)
        steps[name] = {"stack_log_loss": round(float(loss), 4), "stack_accuracy": round(float(accuracy), 4)}
        best_loss = loss
    return chosen, steps


def fit_member(estimator, X, y: np.ndarray, n_classes: int) -> DenseLabels:
    started = time.perf_counter()
    member = DenseLabels(clone(estimator), n_classes).fit(X, y)
    if member.capped_:
        log.info("%s stopped at its iteration cap on all rows", _name(estimator))
    final = member.estimator_[-1] if hasattr(member.estimator_, "steps") else member.estimator_
    if final is not None and "n_jobs" in final.get_params():
        final.set_params(n_jobs=1)  # predict is mostly one ticket: a thread pool costs more than it saves
    log.info("refit %s in %.1fs", type(estimator).__name__, time.perf_counter() - started)
    return member
