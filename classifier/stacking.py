"""Out-of-fold member scores, member selection and the stacker (training side).

Weights are learned, never hand-set: a multinomial logistic regression reads the members'
out-of-fold log-probabilities. A member stays only if adding it lowers the stacker's held-out log-loss
by at least `MIN_GAIN` (greedy forward selection), so a slow member that adds nothing is dropped and
never refitted, and its features never computed at predict time.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold

from classifier.label_model import stack_inputs, stacker_logits
from classifier.members import DenseLabels

log = logging.getLogger(__name__)

MIN_GAIN = 0.003  # log-loss a member must save to earn its place
SELECT_ALL_FOLDS_ROWS = 10_000


def make_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds; classes smaller than the fold count are spread as far as they go."""
    counts = np.bincount(y)
    n_folds = max(2, min(n_folds, int(counts[counts > 0].max())))
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "least populated class has only k members"
        return list(splitter.split(np.zeros(len(y)), y))


def out_of_fold(estimator, X, y: np.ndarray, n_classes: int, folds,
                on_fold: Callable[[int, int], None] | None = None) -> np.ndarray:
    """`on_fold(k, K)` is told after fold k of K (progress only)."""
    scores = np.zeros((len(y), n_classes))
    for k, (train_index, test_index) in enumerate(folds, start=1):
        member = DenseLabels(estimator, n_classes).fit(X[train_index], y[train_index])
        scores[test_index] = member.scores(X[test_index])
        if on_fold is not None:
            on_fold(k, len(folds))
    return scores


def new_stacker(seed: int) -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=300, tol=1e-3, random_state=seed)


def _held_out_folds(member_scores: list[np.ndarray], y: np.ndarray, n_classes: int, folds, seed: int):
    """(test rows, their logits) per fold, from a stacker fitted on the fold's other rows."""
    inputs = stack_inputs(member_scores)
    for train_index, test_index in folds:
        stacker = new_stacker(seed).fit(inputs[train_index], y[train_index])
        yield test_index, stacker_logits(stacker, inputs[test_index], n_classes)


def held_out_stacker_logits(member_scores: list[np.ndarray], y: np.ndarray, n_classes: int, folds,
                            seed: int) -> np.ndarray:
    """Stacker logits for every row from a stacker that did not see that row."""
    logits = np.zeros((len(y), n_classes))
    for test_index, fold_logits in _held_out_folds(member_scores, y, n_classes, folds, seed):
        logits[test_index] = fold_logits
    return logits


def _quality(member_scores, y, n_classes, folds, seed) -> tuple[float, float]:
    """Held-out log-loss and accuracy over the rows the given folds test (one fold on large data)."""
    from scipy.special import softmax

    parts = list(_held_out_folds(member_scores, y, n_classes, folds, seed))
    truth = np.concatenate([y[test_index] for test_index, _ in parts])
    logits = np.vstack([fold_logits for _, fold_logits in parts])
    return (log_loss(truth, softmax(logits, axis=1), labels=np.arange(n_classes)),
            accuracy_score(truth, logits.argmax(1)))


def select_members(oof: dict[str, np.ndarray], y: np.ndarray, n_classes: int, folds, seed: int,
                   on_trial: Callable[[list[str]], None] | None = None) -> tuple[list[str], dict]:
    """Greedy forward selection on held-out stacker log-loss; returns names and a per-step report.
    `on_trial(names)` is told before each candidate set is judged (progress only).

    On large data each candidate set is judged on one fold only (stacker fitted on the others): one
    fit per trial keeps selection to seconds on 30k rows."""
    folds = folds if len(y) <= SELECT_ALL_FOLDS_ROWS else folds[:1]
    remaining = list(oof)
    chosen: list[str] = []
    best_loss = np.inf
    steps = {}
    while remaining:
        trials = {}
        for name in remaining:
            if on_trial is not None:
                on_trial(chosen + [name])
            trials[name] = _quality([oof[m] for m in chosen + [name]], y, n_classes, folds, seed)
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
    final = member.estimator_[-1] if hasattr(member.estimator_, "steps") else member.estimator_
    if final is not None and "n_jobs" in final.get_params():
        final.set_params(n_jobs=1)  # predict is mostly one ticket: a thread pool costs more than it saves
    log.info("refit %s in %.1fs", type(estimator).__name__, time.perf_counter() - started)
    return member
