"""Whether sentence embeddings pay on this data, judged on a sample before every ticket is embedded.

Embedding is the dearest feature (MiniLM reads about 100 to 150 tickets a second on two cores: a minute for
7,000 tickets) and the embedding member is often not kept: it trailed the linear members by 9 points on
multilingual queues (MiniLM reads English) and added nothing to the stack of a 70-group incident set. So above
`PROBE_MIN_ROWS` tickets a random `PROBE_ROWS` are embedded first, and on them a pool stacker of the two
linear members (SVM and logistic regression, the usual core of the stack) is compared, on held-out folds, with
one that adds the embedding member: the rest are embedded only if it lowers the log-loss by at least the
member-selection gain (on 71 groups it did by 0.010, on 38 multilingual tags by 0.039). The sample's vectors
are kept either way, so a probe that says yes costs only its two small fits.
"""
from __future__ import annotations

import logging

import numpy as np

from classifier.members import member_spec
from classifier.stacking import MIN_GAIN, held_out_log_loss, held_out_stacker_logits, make_folds, out_of_fold

log = logging.getLogger(__name__)

PROBE_ROWS = 1_500
PROBE_MIN_ROWS = 3_000  # below this, embedding every ticket costs about as much as the probe


def probe_sample(n_rows: int, seed: int) -> np.ndarray:
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=min(n_rows, PROBE_ROWS), replace=False))


def embeddings_pay(sparse, embedded: np.ndarray, y: np.ndarray, seed: int) -> tuple[bool, dict]:
    """`sparse`: the sample's rows of the linear members' view; `embedded`: its embedding view; `y`: its labels
    (0..k-1 over the whole label). Returns the decision and the figures behind it."""
    n_classes = int(y.max()) + 1
    folds = make_folds(y, 3, seed)
    linear = [out_of_fold(member_spec(name).build(seed, len(y), n_classes), sparse, y, n_classes, folds)
              for name in ("linear_svm", "logreg")]
    embedding = out_of_fold(member_spec("embedding_logreg").build(seed, len(y), n_classes), embedded, y, n_classes,
                            folds)
    losses = {name: held_out_log_loss(held_out_stacker_logits(members, y, n_classes, folds, seed, "pool"), y, n_classes)
              for name, members in (("linear", linear), ("with_embeddings", linear + [embedding]))}
    gain = losses["linear"] - losses["with_embeddings"]
    figures = {"sample": int(len(y)), "stack_log_loss": {k: round(v, 4) for k, v in losses.items()},
               "gain": round(gain, 4), "min_gain": MIN_GAIN,
               "accuracy": {"linear_svm": round(float((linear[0].argmax(1) == y).mean()), 4),
                            "embedding_logreg": round(float((embedding.argmax(1) == y).mean()), 4)}}
    return gain >= MIN_GAIN, figures
