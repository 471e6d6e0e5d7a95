"""Routing by target precision: the threshold chooser, what training stores and what `evaluate` reports."""
from __future__ import annotations

import json

import numpy as np
import pytest

from classifier.selective import FALLBACK_THRESHOLD, choose_threshold, choose_thresholds, selective_summary, stored
from cli.main import main

CONFIDENCE = [0.99, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5]
CORRECT = [1, 1, 1, 0, 1, 1, 0, 0]


@pytest.mark.parametrize("target, expected", [
    (1.0, 0.9),  # the top three are right, the fourth is not
    (0.8, 0.7),  # 5 of 6 at >= 0.7; 5 of 7 at 0.6 is below
    (0.7, 0.6),  # 5 of 7 = 0.714
    (0.6, 0.5),  # 5 of 8 = 0.625
])
def test_the_smallest_threshold_that_reaches_the_target(target, expected):
    assert choose_threshold(CONFIDENCE, CORRECT, target) == (expected, True)


def test_a_target_no_threshold_reaches_routes_nothing():
    assert choose_threshold([0.9, 0.8, 0.7], [0, 1, 0], 0.95) == (1.0, False)
    assert choose_threshold([], [], 0.95) == (1.0, False)


def test_tied_confidences_are_routed_together():
    # at 0.9 both tied tickets route: 1 of 2 right, so 0.9 cannot reach 0.75; only 0.95 can
    assert choose_threshold([0.95, 0.9, 0.9], [1, 1, 0], 0.75) == (0.95, True)


def test_per_category_where_there_is_enough_data_global_elsewhere():
    rng = np.random.default_rng(0)
    order = np.arange(50)
    rng.shuffle(order)
    confidence = np.r_[np.linspace(0.5, 1.0, 40), np.linspace(0.5, 1.0, 10)]
    predicted = np.array(["A"] * 40 + ["B"] * 10, dtype=object)
    correct = np.r_[np.linspace(0.5, 1.0, 40) >= 0.8, np.ones(10, dtype=bool)]
    chosen = choose_thresholds(confidence[order], predicted[order], correct[order], 0.95, min_rows=30)
    assert set(chosen["per_category"]) == {"A"}  # B has 10 predictions: it uses the global threshold
    a = chosen["per_category"]["A"]
    assert a["reached"] and a["n"] == 40 and a["threshold"] == pytest.approx(np.linspace(0.5, 1.0, 40)[24])
    assert chosen["target_precision"] == 0.95 and chosen["reached"]
    summary = selective_summary(chosen, predicted, confidence, correct)
    assert set(summary) >= {"target_precision", "threshold", "coverage", "accuracy"}
    assert summary["accuracy"] >= 0.95


def test_without_a_stored_threshold_the_summary_uses_the_fallback():
    summary = selective_summary(None, np.array(["A", "B"], dtype=object), np.array([0.9, 0.5]), np.array([1, 1]))
    assert summary == {"target_precision": None, "threshold": FALLBACK_THRESHOLD, "coverage": 0.5, "accuracy": 1.0,
                       "n": 1}


def test_a_trained_model_stores_its_threshold_and_evaluate_reports_it(capsys, csv_path, tmp_path, monkeypatch):
    monkeypatch.setenv("TRIAGE_TARGET_PRECISION", "0.9")
    out = tmp_path / "model"
    assert main(["train", "--data", str(csv_path), "--text", "subject,body", "--label", "queue",
                 "--members", "linear_svm", "--out", str(out), "--json", "--quiet"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["selective"]["target_precision"] == 0.9
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["selective"]["target_precision"] == 0.9
    assert 0.0 <= manifest["metrics"]["selective"]["threshold"] <= 1.0
    assert manifest["metrics"]["holdout"]["selective"]["coverage"] is not None
    assert main(["evaluate", "--model", str(out), "--data", str(csv_path), "--text", "subject,body",
                 "--label", "queue", "--json", "--quiet"]) == 0
    selective = json.loads(capsys.readouterr().out)["selective"]
    assert {"target_precision", "threshold", "coverage", "accuracy"} <= set(selective)
    assert selective["target_precision"] == 0.9
    assert selective["threshold"] == round(manifest["metrics"]["selective"]["threshold"], 4)


def test_the_fixture_model_keeps_the_held_out_choice(trained):
    model, report = trained
    assert stored(model) == report["labels"]["queue"]["selective"]
    assert stored(model)["target_precision"] == 0.95


def test_the_tables_show_the_chosen_threshold_and_what_it_routes():
    from classifier.summary import routing_rows

    rows = routing_rows({"selective": {"target_precision": 0.95, "threshold": 0.8817, "coverage": 0.501,
                                       "accuracy": 0.9481, "per_category": {"Access": 0.75}}})
    assert rows == [["target precision 95.0% (0.88, per category)", "50.1% of tickets, 94.8% of them right"]]
    assert routing_rows({"selective": {"target_precision": None, "threshold": 0.7, "coverage": 1.0,
                                       "accuracy": 1.0}}) == []  # a model without one: the `routed` row says it
