"""Slow: trains on a small sample of the real multilingual tickets (benchmarks and tests only: CC-BY-NC)."""
import os
from pathlib import Path

import numpy as np
import pytest

from classifier.dataset import holdout_split, load_labeled, read_csvs
from classifier.evaluation import evaluate
from classifier.training import TrainOptions, fit_classifier

DATASETS = Path(os.environ.get("TRIAGE_DATASETS_DIR", Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"))
MULTILANG = DATASETS / "multilang-tickets" / "tickets.csv"


@pytest.mark.slow
@pytest.mark.skipif(not MULTILANG.is_file(), reason="multilingual data set not present")
def test_multilingual_sample_beats_majority_class_with_embeddings():
    frame = read_csvs([MULTILANG]).sample(800, random_state=0)
    data = load_labeled(frame, ["subject", "body"], ["queue", "priority"])
    queue = data.labels["queue"]
    train, test = holdout_split(queue, 0.25, seed=0)
    options = TrainOptions(seed=0, members=("linear_svm", "complement_nb", "embedding_logreg"), embeddings="on")
    model, report = fit_classifier([data.tickets[i] for i in train],
                                   {"queue": queue[train], "priority": data.labels["priority"][train]}, options)
    assert "embedding_logreg" in report["labels"]["queue"]["members"]
    result = evaluate(model, [data.tickets[i] for i in test], queue[test], measure_latency=False)
    majority = max(np.mean(queue[test] == c) for c in set(queue[test]))
    assert result["accuracy"] > majority + 0.03
    from classifier.ticket import Ticket

    sample = [data.tickets[i] for i in test[:30]]
    detected = model.predict_batch([Ticket(subject=t.subject, body=t.body) for t in sample])  # no language given
    assert np.mean([p.derived["language"] == t.language for p, t in zip(detected, sample)]) >= 0.8
    assert set(detected[0].fields) == {"priority"}
