"""A stacker with one learned weight per member and one bias per class: a weighted log-linear pool.

The multinomial stacker (`sklearn` LogisticRegression on the members' log-probabilities side by side) learns
members x classes x classes coefficients: on 8 classes and 30,000 rows it can learn which member to trust for
which class, but on 60 classes and 3,000 rows (most classes with a handful of rows) it has ten times more
coefficients than rows and learns the noise. The pool learns members + classes numbers, minimising the same
log-loss: logits = sum_m w_m * log p_m + b, with w >= 0 and a light L2 penalty. `classifier.stacking` picks
whichever of the two has the lower held-out log-loss.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin


class LogLinearPool(BaseEstimator, ClassifierMixin):
    def __init__(self, n_members: int = 1, l2: float = 1e-3, max_iter: int = 200):
        self.n_members = n_members
        self.l2 = l2
        self.max_iter = max_iter

    def _blocks(self, X: np.ndarray) -> np.ndarray:
        """(members, rows, classes) view of the side-by-side log-probabilities."""
        n_rows, width = X.shape
        return np.asarray(X, dtype=np.float64).reshape(n_rows, self.n_members, width // self.n_members).transpose(1, 0, 2)

    def fit(self, X, y, sample_weight=None):
        blocks = self._blocks(X)
        n_classes = blocks.shape[2]
        y = np.asarray(y)
        onehot = np.zeros((len(y), n_classes))
        onehot[np.arange(len(y)), y] = 1.0
        prior = np.log(np.maximum(onehot.mean(0), 1.0 / len(y)))

        def loss(theta):
            weights, bias = theta[: self.n_members], theta[self.n_members:]
            logits = np.tensordot(weights, blocks, axes=1) + bias
            log_norm = logsumexp(logits, axis=1)
            value = (log_norm - (logits * onehot).sum(1)).mean() + self.l2 * (bias @ bias)
            gradient_logits = (np.exp(logits - log_norm[:, None]) - onehot) / len(y)
            grad_w = np.einsum("mnc,nc->m", blocks, gradient_logits)
            grad_b = gradient_logits.sum(0) + 2 * self.l2 * bias
            return value, np.concatenate([grad_w, grad_b])

        start = np.concatenate([np.full(self.n_members, 1.0 / self.n_members), np.zeros(n_classes)])
        bounds = [(0.0, None)] * self.n_members + [(None, None)] * n_classes
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": self.max_iter})
        self.member_weights_ = result.x[: self.n_members]
        self.intercept_ = result.x[self.n_members:]
        self.classes_ = np.arange(n_classes)
        self.prior_ = prior
        return self

    def decision_function(self, X) -> np.ndarray:
        return np.tensordot(self.member_weights_, self._blocks(X), axes=1) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        logits = self.decision_function(X)
        return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))

    def predict(self, X) -> np.ndarray:
        return self.decision_function(X).argmax(1)


class SingleMember(BaseEstimator, ClassifierMixin):
    """The stacker of a plain model shipped alone (classifier.candidates): its own log-probabilities, unchanged,
    so the shipped answer is the plain model's; temperature scaling then calibrates its confidence like the
    stack's."""

    def fit(self, X, y=None):
        self.classes_ = np.arange(np.asarray(X).shape[1])
        self.member_weights_ = np.ones(1)
        return self

    def decision_function(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)

    def predict(self, X) -> np.ndarray:
        return self.decision_function(X).argmax(1)
