"""What ships for one label: the stack, or a plain model that does as well (training side).

The stack is tuned on the members' out-of-fold scores (which members stay, which stacker), so its own
out-of-fold accuracy flatters it: on the multilingual queues it looked 5 points above plain TF-IDF + logistic
regression on the split it was tuned on and scored 1.3 below on a holdout. Here it is judged on rows it was not
tuned on: repeated stratified outer splits of the training rows, and in each, member selection and the stacker
are fitted on the outer training rows' out-of-fold scores and scored on the rest (nested). The plain candidates (`MemberSpec.plain`) are scored by their own out-of-fold predictions on the same
rows. The stack ships only when its mean accuracy is above the best plain candidate's by more than `NOISE_SE`
standard errors of the paired per-row difference; otherwise that plain model ships alone, calibrated like the
stack (temperature, then the precision thresholds), and the report says why.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score

from classifier.label_model import stack_inputs, stacker_logits
from classifier.stacking import make_folds, new_stacker, select_members

STACK = "stack"
NOISE_SE = 2.0  # the stack must win by more than this many standard errors of the paired difference
MIN_COMPARE_ROWS = 100  # below this the comparison is noise: the stack ships, and the report says so
SMALL_ROWS = 10_000
REPEAT_CELLS = 50_000  # rows x classes up to which the outer split is repeated (2 x 5 folds on 2,500 x 10)
INNER_FOLDS = 3


def nested_plan(n_rows: int, n_classes: int) -> tuple[int, int]:
    """(repeats, outer folds): 2 x 5 on small data, 1 x 5 when classes are many (each selection on 59 classes
    took 9 s), 1 x 3 on large data (the standard error there is a fraction of a point anyway)."""
    if n_rows > SMALL_ROWS:
        return 1, 3
    return (2 if n_rows * n_classes <= REPEAT_CELLS else 1), 5


def nested_stack_correct(oof: dict[str, np.ndarray], y: np.ndarray, n_classes: int, seed: int,
                         repeats: int, n_folds: int, kind: str) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """(right or wrong per repeat and row, predicted class per repeat and row, members chosen per outer fold):
    member selection and the stacker refitted on each outer split's training rows, scored on its test rows.
    The stacker's kind is the one chosen on all rows (one choice of two: little room to flatter, and trying both
    in every outer fold tripled the cost on 59 classes), and each selection trial is judged on one inner split
    (all three took 40 s an outer fold on 5,700 tickets in 71 groups)."""
    correct = np.zeros((repeats, len(y)), dtype=bool)
    predicted = np.zeros((repeats, len(y)), dtype=int)
    chosen_per_fold = []
    for repeat in range(repeats):
        for train, test in make_folds(y, n_folds, seed + 7919 * (repeat + 1)):
            inner = {name: scores[train] for name, scores in oof.items()}
            folds = make_folds(y[train], INNER_FOLDS, seed)[:1]  # one inner split per trial, as on large data
            chosen, _ = select_members(inner, y[train], n_classes, folds, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # judged by its held-out score
                stacker = new_stacker(seed, kind, len(chosen)).fit(stack_inputs([inner[m] for m in chosen]),
                                                                    y[train])
            logits = stacker_logits(stacker, stack_inputs([oof[m][test] for m in chosen]), n_classes)
            predicted[repeat, test] = logits.argmax(1)
            correct[repeat, test] = predicted[repeat, test] == y[test]
            chosen_per_fold.append(chosen)
    return correct, predicted, chosen_per_fold


def _standard_error(per_row: np.ndarray) -> float:
    """Of a mean accuracy, from its per-row values (right or wrong, or a share over repeats)."""
    return float(np.std(per_row, ddof=1) / np.sqrt(len(per_row)))


def _paired(stack_rate: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the per-row difference (stack minus other)."""
    difference = stack_rate - other.astype(float)
    return float(difference.mean()), float(difference.std(ddof=1) / np.sqrt(len(difference)))


def compare(oof: dict[str, np.ndarray], plain: list[str], y: np.ndarray, n_classes: int, seed: int,
            kind: str = "multinomial") -> dict:
    """The comparison report; `shipped` is `STACK` or the name of the plain member to ship alone."""
    n_rows = len(y)
    plain = [name for name in plain if name in oof]
    if not plain:
        return {"shipped": STACK, "reason": "no plain candidate was trained (--members named none)"}
    if n_rows < MIN_COMPARE_ROWS:
        return {"shipped": STACK, "reason": f"{n_rows} rows are too few to tell the stack from a plain model "
                                            f"(at least {MIN_COMPARE_ROWS})"}
    repeats, n_folds = nested_plan(n_rows, n_classes)
    correct, predicted, chosen = nested_stack_correct(oof, y, n_classes, seed, repeats, n_folds, kind)
    per_repeat = correct.mean(1)
    rate = correct.mean(0)
    candidates = {STACK: {
        "accuracy": round(float(rate.mean()), 4), "se": round(_standard_error(rate), 4),
        "per_repeat": [round(float(a), 4) for a in per_repeat],
        "macro_f1": round(float(np.mean([f1_score(y, p, average="macro") for p in predicted])), 4),
        "members_chosen": _tally(chosen)}}
    for name in plain:
        right = oof[name].argmax(1) == y
        difference, difference_se = _paired(rate, right)
        candidates[name] = {"accuracy": round(float(right.mean()), 4), "se": round(_standard_error(right), 4),
                            "macro_f1": round(float(f1_score(y, oof[name].argmax(1), average="macro")), 4),
                            "stack_minus_this": round(difference, 4), "difference_se": round(difference_se, 4)}
    best = max(plain, key=lambda name: (candidates[name]["accuracy"], -plain.index(name)))
    margin, margin_se = _paired(rate, oof[best].argmax(1) == y)
    wins = margin > NOISE_SE * margin_se
    margin, margin_se = round(margin, 4), round(margin_se, 4)  # as the table shows them
    shipped = STACK if wins else best
    verb = "more" if wins else "not more"
    reason = (f"the stack is {margin * 100:+.1f} points against {best} (standard error {margin_se * 100:.1f}): "
              f"{verb} than {NOISE_SE:g} standard errors, so {'the stack' if wins else best} ships")
    return {"shipped": shipped, "reason": reason, "best_plain": best, "repeats": repeats, "outer_folds": n_folds,
            "noise_se": NOISE_SE, "candidates": candidates}


def _tally(chosen: list[list[str]]) -> dict[str, int]:
    """How many outer folds kept each member (a member kept in every fold is a stable choice)."""
    counts: dict[str, int] = {}
    for names in chosen:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))
