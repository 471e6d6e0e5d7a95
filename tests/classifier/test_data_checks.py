import numpy as np
import pandas as pd
import pytest

from classifier.dataset import DataError, holdout_split, load_labeled


def _frame(rows):
    return pd.DataFrame(rows, columns=["text", "label"])


def test_problems_are_counted_and_empty_rows_dropped():
    rows = [["printer broken", "Hardware"]] * 3 + [["printer broken", "Access"]] + [["", "Access"], ["   ", "Access"]]
    rows += [[f"password reset {i}", "Access"] for i in range(20)] + [["one lonely ticket", "Rare"]]
    data = load_labeled(_frame(rows), ["text"], ["label"])
    checks = data.checks
    assert checks["empty_texts"] == {"count": 2, "rows": [5, 6]}
    assert checks["exact_duplicates"] == 3
    assert checks["label"]["conflicting_texts"] == 1
    assert checks["label"]["tiny_classes"] == {"Hardware": 3, "Rare": 1}
    assert len(data.tickets) == len(rows) - 2


def test_missing_column_is_named():
    with pytest.raises(DataError, match="missing column.*queue"):
        load_labeled(_frame([["a", "b"]]), ["text"], ["queue"])


def test_no_rows_stops_training():
    with pytest.raises(DataError, match="no rows"):
        load_labeled(_frame([]), ["text"], ["label"])
    with pytest.raises(DataError, match="no usable rows"):
        load_labeled(_frame([["", "x"], [None, "y"]]), ["text"], ["label"])


def test_single_class_is_refused():
    with pytest.raises(DataError, match="at least 2 classes"):
        load_labeled(_frame([["a", "x"], ["b", "x"]]), ["text"], ["label"])


def test_tiny_class_stays_in_training_and_out_of_holdout():
    labels = np.array(["big"] * 50 + ["mid"] * 30 + ["tiny"] * 2)
    train, test = holdout_split(labels, 0.2, seed=1)
    assert set(labels[test]) == {"big", "mid"}
    assert (labels[train] == "tiny").sum() == 2
    assert len(set(train) & set(test)) == 0 and len(train) + len(test) == len(labels)
    assert abs((labels[test] == "big").sum() - 10) <= 1


def test_training_survives_a_class_of_one(frame):
    from classifier.training import TrainOptions, fit_classifier

    data = load_labeled(frame, ["subject", "body"], ["queue"])
    labels = data.labels["queue"].copy()
    labels[0] = "Singleton"
    model, _ = fit_classifier(data.tickets, {"queue": labels}, TrainOptions(members=("linear_svm", "lightgbm")))
    assert "Singleton" in model.labels
