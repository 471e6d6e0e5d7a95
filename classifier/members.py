"""The ensemble's candidate members: which estimator, on which view of the features.

Views: `words` is word TF-IDF alone and `text` word+char TF-IDF (the plain candidates, which may ship alone
instead of the stack: classifier.candidates); `sparse` is word+char TF-IDF plus scaled signals (linear models, where the character n-grams
carry the non-English tickets); `trees` is word TF-IDF plus raw signals, cut to the most class-related
columns by chi2 inside each member (trees on a few hundred thousand sparse columns would blow the
training budget); `embedding` is the sentence embedding plus scaled signals.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC


class DenseLabels(BaseEstimator, ClassifierMixin):
    """Fits `estimator` on the labels present (0..k-1, as XGBoost and friends require) and answers
    scores for all `n_classes` labels, so folds that miss a tiny class still line up. `capped_` says the
    solver stopped at its iteration cap (sklearn's ConvergenceWarning, caught here: a member is judged by its
    out-of-fold score, and nine lines of warning per fold told the operator nothing)."""

    def __init__(self, estimator=None, n_classes: int = 2):
        self.estimator = estimator
        self.n_classes = n_classes

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        local = np.searchsorted(self.classes_, y)
        self.estimator_ = clone(self.estimator)
        self.capped_ = False
        if len(self.classes_) == 1:
            self.estimator_ = None
            return self
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.estimator_.fit(X, local)
        for warning in caught:  # an iteration cap is expected and reported once by the caller; others pass on
            if issubclass(warning.category, ConvergenceWarning):
                self.capped_ = True
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        return self

    def scores(self, X) -> np.ndarray:
        """Class probabilities (or softmax of decision values), shape (n, n_classes)."""
        full = np.zeros((X.shape[0], self.n_classes), dtype=np.float64)
        if self.estimator_ is None:
            full[:, self.classes_[0]] = 1.0
            return full
        if hasattr(self.estimator_, "predict_proba"):
            part = self.estimator_.predict_proba(X)
        else:
            part = _softmax(np.asarray(self.estimator_.decision_function(X), dtype=np.float64))
            if part.ndim == 1 or part.shape[1] == 1:
                part = np.column_stack([1 - part.ravel(), part.ravel()])
        full[:, self.classes_] = part
        return full


def _softmax(decision: np.ndarray) -> np.ndarray:
    if decision.ndim == 1:
        return 1.0 / (1.0 + np.exp(-decision))
    shifted = np.exp(3.0 * (decision - decision.max(axis=1, keepdims=True)))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class MemberSpec:
    name: str
    view: str  # "sparse" | "trees" | "embedding"
    build: Callable[..., object]  # (seed, n_rows, n_classes=8) -> unfitted estimator
    cost: int = 1  # rough relative training cost, used to skip members on huge data
    thorough_only: bool = False  # a candidate of the `thorough` profile only (TrainOptions.profile) ...
    useful: Callable[[int, int], bool] = lambda n_rows, n_classes: True  # ... where it differs from the others
    plain: bool = False  # a plain model that may ship alone instead of the stack (classifier.candidates)


class CachedKBest(SelectKBest):
    """SelectKBest that keeps its column mask: the stock one re-sorts every score (120k columns) on each
    transform, 30 ms a ticket, the largest cost of a single predict."""

    def fit(self, X, y=None, **params):
        super().fit(X, y, **params)
        self.mask_ = super()._get_support_mask()
        return self

    def _get_support_mask(self):
        return self.mask_


def _select(n_rows: int) -> SelectKBest:
    return CachedKBest(chi2, k=min(5000, max(200, n_rows // 6)))


TREE_BUDGET_CLASSES = 8  # boosting grows one tree per class a round: rounds shrink beyond this many classes
MIN_ROUNDS = 25


def rounds(base: int, n_classes: int) -> int:
    """Boosting rounds for this many classes: `base` up to 8 classes, then fewer, so that a 70-class label
    costs about twice an 8-class one instead of nine times (a member screened out still pays its first fold)."""
    if n_classes <= TREE_BUDGET_CLASSES:
        return base
    return max(MIN_ROUNDS, int(base * (TREE_BUDGET_CLASSES / n_classes) ** 0.7))


LARGE_BOOSTER_ROWS = 20_000


def _lgbm(seed: int, n_rows: int, n_classes: int = 8):
    """One thread: LightGBM's OpenMP threads spin and crawl when another process holds a core.
    With many rows and few classes the budget allows a larger booster: on Endava (30,000 rows) 250 rounds of 31
    leaves on 10,000 columns gave 0.859 out-of-fold against 0.855 for the small one, the stack 0.869 against
    0.867 and the holdout 0.876 against 0.874 (three folds 2.5 minutes against 45 s). A larger one still (400
    rounds, 63 bins, 20,000 columns) scored no better in ten minutes."""
    from lightgbm import LGBMClassifier

    if n_rows < LARGE_BOOSTER_ROWS or n_classes > TREE_BUDGET_CLASSES:
        return _lgbm_small(seed, n_rows, n_classes)
    booster = LGBMClassifier(n_estimators=250, learning_rate=0.1, num_leaves=31, max_bin=31, colsample_bytree=0.3,
                             min_child_samples=10, random_state=seed, n_jobs=1, verbose=-1)
    return make_pipeline(CachedKBest(chi2, k=10_000), booster)


def _lgbm_small(seed: int, n_rows: int, n_classes: int = 8):
    """The booster below LARGE_BOOSTER_ROWS, and a second, differently sized one in the `thorough` profile
    (beside the large one on Endava the stack reached 0.871 out-of-fold against 0.869).
    Leaves need fewer rows when classes are many: with 10 a leaf could never isolate a class of 4 rows, and the
    booster's rate of 0.2 then diverged on the tiny classes (0.20 accuracy on a 70-group set); both scale here."""
    from lightgbm import LGBMClassifier

    many = n_classes > TREE_BUDGET_CLASSES
    booster = LGBMClassifier(n_estimators=rounds(120, n_classes), learning_rate=0.1 if many else 0.2, num_leaves=15,
                             max_bin=15, colsample_bytree=0.3, min_child_samples=3 if many else 10,
                             min_sum_hessian_in_leaf=1e-2 if many else 1e-3,
                             random_state=seed, n_jobs=1, verbose=-1)
    return make_pipeline(_select(n_rows), booster)


def _xgb(seed: int, n_rows: int, n_classes: int = 8):
    from xgboost import XGBClassifier

    booster = XGBClassifier(n_estimators=rounds(150, n_classes), learning_rate=0.25, max_depth=6, tree_method="hist",
                            max_bin=16, colsample_bytree=0.3, random_state=seed, n_jobs=1, verbosity=0)  # see _lgbm
    return make_pipeline(_select(n_rows), booster)


def _forest(seed: int, n_rows: int, n_classes: int = 8):
    forest = RandomForestClassifier(n_estimators=120, min_samples_leaf=2, max_features="sqrt",
                                    random_state=seed, n_jobs=2)
    return make_pipeline(_select(n_rows), forest)


def _logreg(n_classes: int) -> LogisticRegression:
    """L-BFGS's cost per iteration grows with classes x non-zeros: on 59 classes and word + char n-grams it took
    130 s for five folds (0.480 out-of-fold); SAGA's first 10 passes reach the same accuracy in 18 s (0.480;
    20 passes 0.482, 30 passes 0.480 in 59 s). With few classes L-BFGS converges in a few dozen iterations."""
    if n_classes <= TREE_BUDGET_CLASSES:
        return LogisticRegression(C=10.0, max_iter=300, tol=1e-3)
    return LogisticRegression(C=10.0, solver="saga", max_iter=10, tol=1e-3)


def _plain_logreg(seed: int, n_rows: int, n_classes: int = 8) -> LogisticRegression:
    """The baseline a team would try first: word 1-2 gram TF-IDF + logistic regression (C=10). Solved like the
    `logreg` member: L-BFGS to convergence took 113 s for five folds on 59 classes (0.462 out-of-fold)."""
    return _logreg(n_classes)


def _plain_svm(seed: int, n_rows: int, n_classes: int = 8) -> LinearSVC:
    """Word + char n-gram TF-IDF and a linear SVM (C=0.5), without the engineered signals. On the multilingual
    queues it scored 0.568-0.577 out-of-fold over three seeds, against 0.545 for the plain logistic regression
    (bench/long_tail.py --sets queue)."""
    return LinearSVC(C=0.5, random_state=seed)


MEMBERS: tuple[MemberSpec, ...] = (
    MemberSpec("plain_logreg", "words", _plain_logreg, plain=True),
    MemberSpec("plain_svm", "text", _plain_svm, plain=True),
    MemberSpec("linear_svm", "sparse", lambda seed, n, k=8: LinearSVC(C=0.3, random_state=seed)),
    MemberSpec("logreg", "sparse", lambda seed, n, k=8: _logreg(k)),
    MemberSpec("complement_nb", "trees", lambda seed, n, k=8: ComplementNB(alpha=0.3)),
    MemberSpec("lightgbm", "trees", _lgbm, cost=4),
    MemberSpec("xgboost", "trees", _xgb, cost=6),
    MemberSpec("random_forest", "trees", _forest, cost=3),
    MemberSpec("embedding_logreg", "embedding",
               lambda seed, n, k=8: LogisticRegression(C=5.0, max_iter=500)),
    MemberSpec("lightgbm_small", "trees", _lgbm_small, cost=4, thorough_only=True,
               useful=lambda n_rows, n_classes: n_rows >= LARGE_BOOSTER_ROWS and n_classes <= TREE_BUDGET_CLASSES),
)
MEMBER_NAMES = tuple(spec.name for spec in MEMBERS)


def member_spec(name: str) -> MemberSpec:
    for spec in MEMBERS:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown member {name!r}; known: {', '.join(MEMBER_NAMES)}")
