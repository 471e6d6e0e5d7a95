"""The tables a person reads after `triage train` and `triage evaluate`, and the overlap warning."""
from __future__ import annotations

import pytest

from classifier.summary import evaluate_summary, overlap_warning, train_summary
from classifier.train_command import stacking_weights

MEMBERS = {
    "linear_svm": {"accuracy": 0.796, "macro_f1": 0.788, "log_loss": 0.63, "ece": 0.02, "oof_seconds": 1.0},
    "random_forest": {"accuracy": 0.738, "macro_f1": 0.743, "log_loss": 0.824, "ece": 0.03, "oof_seconds": 61.7},
    "logreg": {"accuracy": 0.79, "macro_f1": 0.78, "log_loss": 0.602, "ece": 0.02, "oof_seconds": 3.8},
}
TRAIN_RESULT = {
    "model": "models/versions/20250601-120000-abc123", "version": "20250601-120000-abc123", "promoted": True,
    "n": 600, "accuracy": 0.82, "macro_f1": 0.8271, "ece": 0.0431,
    "routed": {"threshold": 0.7, "share": 0.7233, "n": 434, "accuracy": 0.9032},
    "conformal": {"alpha": 0.05, "coverage": 0.95, "auto_routed": 0.4567, "error_among_auto_routed": 0.037,
                  "mean_set_size": 1.8},
    "fields": {"priority": {"n": 600, "accuracy": 0.88, "macro_f1": 0.861, "weighted_f1": 0.87, "ece": 0.031}},
    "training": {"train_seconds": 22.4, "labels": {"queue": {
        "members": MEMBERS, "weights": {"linear_svm": 0.69, "random_forest": 0.31},
        "stacked_oof": {"accuracy": 0.806, "macro_f1": 0.796, "log_loss": 0.576, "ece": 0.01}}}},
    "data_checks": {"rows": 3000, "used_rows": 2998, "exact_duplicates": 3, "queue": {"conflicting_texts": 2}},
    "holdout_overlap": {"rows": 12, "share": 0.02}, "seconds": 95.2,
}


def test_train_summary_shows_scores_routing_members_time_and_where_it_went():
    lines = train_summary(TRAIN_RESULT).splitlines()
    text = "\n".join(lines)
    assert lines[0] == "Trained model 20250601-120000-abc123 in 1 min 35 s (fitting 22 s)"
    assert lines[1] == "Saved to models/versions/20250601-120000-abc123 (now the current model)"
    assert "Holdout: 600 tickets the model did not train on" in text
    for label, value in (("accuracy", "0.820"), ("macro-F1", "0.827"), ("calibration error (ECE)", "0.043"),
                         ("auto-routed at 0.70", "72.3% of tickets, 90.3% of them right"),
                         ("conformal sets (alpha 0.05)", "45.7% hold one category, 3.7% of those wrong")):
        assert any(line.split() == label.split() + value.split() for line in lines), label
    member_lines = [line for line in lines if line.strip().startswith(("linear_svm", "random_forest", "logreg"))]
    assert member_lines[0].split() == ["linear_svm", "0.796", "0.788", "0.630", "69%", "1.0", "s"]
    assert member_lines[1].split() == ["random_forest", "0.738", "0.743", "0.824", "31%", "1", "min", "02", "s"]
    assert member_lines[2].split()[-3:] == ["s", "not", "kept"] and " - " in member_lines[2]
    assert len({line.index("0.7") for line in member_lines}) == 1  # the columns line up
    assert "12 of them, 2.0%, repeat a training text" in text
    assert "priority on the holdout: accuracy 0.880, macro-F1 0.861, ECE 0.031" in text
    assert "Data: 3,000 rows, 2,998 used, 3 exact duplicates, 2 texts with more than one queue" in text
    assert "{" not in text


def test_train_summary_without_holdout_says_so():
    result = {**TRAIN_RESULT, "n": 0, "promoted": False, "model": "/tmp/out"}
    text = train_summary(result)
    assert "No holdout (--holdout 0)" in text and "Saved to /tmp/out\n" in text


def test_evaluate_summary_lists_classes_and_the_overlap():
    result = {"model_version": "v1", "n": 2000, "accuracy": 0.9, "macro_f1": 0.85, "weighted_f1": 0.89, "ece": 0.02,
              "routed": {"threshold": 0.8, "share": 0.5, "n": 1000, "accuracy": 0.99},
              "per_class": {"Access": {"precision": 0.9, "recall": 0.8, "f1": 0.847, "support": 1200},
                            "Billing": {"precision": 0.7, "recall": 0.95, "f1": 0.806, "support": 800}},
              "latency_ms": {"p50": 7.46, "p99": 21.7}, "unseen_labels": ["New"], "overlap": {"rows": 312, "share": 0.156}}
    text = evaluate_summary(result, "report.html")
    assert text.startswith("Model v1 on 2,000 tickets")
    assert "auto-routed at 0.80" in text and "50.0% of tickets, 99.0% of them right" in text
    assert "p50 7.5 ms, p99 21.7 ms" in text
    assert [line.split() for line in text.splitlines() if line.strip().startswith("Access")] == \
        [["Access", "0.900", "0.800", "0.847", "1,200"]]
    assert "Labels the model does not know (counted as errors): New" in text
    assert "Overlap with the training data: 312 rows (15.6%)" in text and text.endswith("Report: report.html")


@pytest.mark.parametrize("overlap, expected", [
    ({"rows": 312, "share": 0.156}, "warning: 312 of 2,000 evaluation rows (15.6%) also appear in this model's "
                                    "training data: these figures are optimistic"),
    ({"rows": 0, "share": 0.0}, None),
    ({"rows": None, "share": None}, "note: this model keeps no hashes of its training texts (trained before they were "
                                    "kept, or not by `triage train`), so overlap with its training data could not be "
                                    "checked"),
])
def test_overlap_warning(overlap, expected):
    assert overlap_warning(overlap, 2000) == expected


def test_stacking_weights_share_the_stack_among_the_kept_members(trained):
    model, report = trained
    for label_model in model.label_models:
        weights = stacking_weights(label_model)
        assert list(weights) == list(label_model.members) == report["labels"][label_model.name]["kept"]
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
        assert all(0 < w <= 1 for w in weights.values())


def test_train_summary_shows_members_stopped_after_one_fold_and_the_stacker():
    label = {**TRAIN_RESULT["training"]["labels"]["queue"], "stacker": "pool",
             "skipped": {"lightgbm": {"first_fold_accuracy": 0.204, "leader": "linear_svm", "leader_accuracy": 0.728,
                                      "seconds": 3.2, "reason": "..."}}}
    result = {**TRAIN_RESULT, "training": {**TRAIN_RESULT["training"], "labels": {"queue": label}}}
    lines = train_summary(result).splitlines()
    stopped = next(line for line in lines if line.strip().startswith("lightgbm"))
    assert stopped.split()[:2] == ["lightgbm", "0.204"] and stopped.endswith("stopped after fold 1 (linear_svm 0.728)")
    assert any(line.strip().startswith("stacked (pool), calibrated") for line in lines)


def test_train_summary_shows_the_stack_against_the_plain_models_and_why_one_shipped():
    comparison = {"shipped": "plain_svm", "best_plain": "plain_svm", "repeats": 2, "outer_folds": 5,
                  "reason": "the stack is +0.9 points against plain_svm (standard error 0.5): not more than 2 "
                            "standard errors, so plain_svm ships",
                  "candidates": {"stack": {"accuracy": 0.5862, "se": 0.0092, "macro_f1": 0.552},
                                 "plain_logreg": {"accuracy": 0.5446, "se": 0.0098, "macro_f1": 0.4171,
                                                  "stack_minus_this": 0.0419, "difference_se": 0.0071},
                                 "plain_svm": {"accuracy": 0.5768, "se": 0.0097, "macro_f1": 0.4828,
                                               "stack_minus_this": 0.0095, "difference_se": 0.0051}}}
    result = {**TRAIN_RESULT, "training": {**TRAIN_RESULT["training"], "labels": {"queue": {
        **TRAIN_RESULT["training"]["labels"]["queue"], "comparison": comparison}}}}
    lines = train_summary(result).splitlines()
    start = lines.index("Stack or plain model for queue (nested: 2 x 5 outer folds of the training rows, which "
                        "neither was tuned on)")
    assert [line.split()[0] for line in lines[start + 1:start + 5]] == ["candidate", "plain_svm", "stack",
                                                                         "plain_logreg"]
    assert lines[start + 2].split() == ["plain_svm", "0.577", "0.010", "0.483", "+0.9", "±", "0.5", "points",
                                        "shipped"]
    assert lines[start + 5] == ("  The stack is +0.9 points against plain_svm (standard error 0.5): not more than 2 "
                                "standard errors, so plain_svm ships.")
