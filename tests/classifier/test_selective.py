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
def test_the_smallest_threshold_whose_point_estimate_reaches_the_target(target, expected):
    assert choose_threshold(CONFIDENCE, CORRECT, target, level=None) == (expected, True)


def test_a_target_no_threshold_reaches_routes_nothing():
    assert choose_threshold([0.9, 0.8, 0.7], [0, 1, 0], 0.95) == (1.0, False)
    assert choose_threshold([0.9, 0.8, 0.7], [0, 1, 0], 0.95, level=None) == (1.0, False)
    assert choose_threshold([], [], 0.95) == (1.0, False)


def test_tied_confidences_are_routed_together():
    # at 0.9 both tied tickets route: 1 of 2 right, so 0.9 cannot reach 0.75; only 0.95 can
    assert choose_threshold([0.95, 0.9, 0.9], [1, 1, 0], 0.75, level=None) == (0.95, True)


def test_a_threshold_needs_enough_routed_rows_for_its_lower_bound_to_reach_the_target():
    # 30 right of 30 is a point estimate of 100%, but its 90% lower bound is 94.8%: not proof of 95%; 40 are
    assert choose_threshold(np.linspace(1, 0.9, 30), np.ones(30), 0.95) == (1.0, False)
    assert choose_threshold(np.linspace(1, 0.9, 40), np.ones(40), 0.95) == (0.9, True)
    # 1,000 tickets at 95.0% right reach 95% by the point estimate but not by the bound: the bound asks for more
    correct = np.r_[np.ones(950), np.zeros(50)].astype(bool)
    confidence = np.linspace(1.0, 0.5, 1000)
    rng = np.random.default_rng(3)
    rng.shuffle(correct[100:])
    assert choose_threshold(confidence, correct, 0.95, level=None)[0] < choose_threshold(confidence, correct, 0.95)[0]


def test_the_lower_bound_is_a_wilson_bound():
    from classifier.selective import precision_lower_bound, wilson_bounds

    assert precision_lower_bound(40, 40) == pytest.approx(1 / (1 + 1.2816 ** 2 / 40), abs=1e-4)
    lower, upper = wilson_bounds(93, 100, 0.95)
    assert (round(float(lower), 3), round(float(upper), 3)) == (0.863, 0.966)  # the textbook Wilson interval
    assert wilson_bounds(0, 0) == (0.0, 1.0)


def _two_categories(seed: int = 0, n: int = 6000):
    """A is underconfident, B overconfident by 3 points, C has 10 predictions."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.8, 1.0, n)
    predicted = np.array(["A", "B"] * (n // 2), dtype=object)
    correct = rng.random(n) < np.where(predicted == "A", np.sqrt(confidence), confidence - 0.03)
    confidence = np.r_[confidence, np.linspace(0.9, 1.0, 10)]
    return confidence, np.r_[predicted, ["C"] * 10], np.r_[correct, np.ones(10, dtype=bool)]


def test_per_category_thresholds_shrink_towards_the_global_one_where_there_is_enough_data():
    confidence, predicted, correct = _two_categories()
    chosen = choose_thresholds(confidence, predicted, correct, 0.95, min_rows=30)
    assert chosen["reached"] and chosen["target_precision"] == 0.95
    assert set(chosen["per_category"]) == {"A", "B"}  # C has 10 predictions: it uses the global threshold
    t = chosen["threshold"]
    for entry in chosen["per_category"].values():
        assert entry["weight"] == pytest.approx(entry["n"] / (entry["n"] + 200), abs=1e-4)
        assert entry["threshold"] == pytest.approx(t + entry["weight"] * (entry["own"] - t), abs=1e-5)
    a, b = chosen["per_category"]["A"], chosen["per_category"]["B"]
    assert a["own"] < t < b["own"] and a["threshold"] < t < b["threshold"]  # B, overconfident, needs more
    held_out = chosen["held_out"]
    assert held_out["lower"] >= 0.95 and held_out["precision"] > held_out["lower"]
    summary = selective_summary(chosen, predicted, confidence, correct)
    assert summary["accuracy"] == held_out["precision"] and summary["n"] == held_out["n"]
    assert summary["interval"][0] < summary["accuracy"] < summary["interval"][1]
    assert summary["verdict"]["met"] is True


def test_a_per_category_mix_is_kept_only_where_it_holds_the_bound_and_routes_more():
    for seed in range(40):  # random categories, some overconfident, some not
        rng = np.random.default_rng(seed)
        sizes, biases, lows = rng.integers(30, 800, 3), rng.uniform(-0.1, 0.15, 3), rng.uniform(0.3, 0.9, 3)
        confidence = np.concatenate([rng.uniform(low, 1.0, n) for n, low in zip(sizes, lows)])
        predicted = np.repeat(np.array(["a", "b", "c"], dtype=object), sizes)
        correct = rng.random(len(confidence)) < np.clip(confidence + np.repeat(biases, sizes), 0, 1)
        chosen = choose_thresholds(confidence, predicted, correct, 0.95)
        global_only = selective_summary({**chosen, "per_category": {}}, predicted, confidence, correct)
        held_out = chosen["held_out"]
        if chosen["reached"]:
            assert held_out["lower"] >= 0.95 and held_out["n"] >= global_only["n"]
        if "per_category_dropped" in chosen:
            dropped = chosen["per_category_dropped"]
            assert dropped["lower"] < 0.95 or dropped["n"] < global_only["n"]
            assert chosen["per_category"] == {} and held_out["n"] == global_only["n"]


def test_without_a_stored_threshold_the_summary_uses_the_fallback():
    summary = selective_summary(None, np.array(["A", "B"], dtype=object), np.array([0.9, 0.5]), np.array([1, 1]))
    interval = summary.pop("interval")
    assert summary == {"target_precision": None, "threshold": FALLBACK_THRESHOLD, "coverage": 0.5, "accuracy": 1.0,
                       "n": 1, "interval_level": 0.95}
    assert 0.2 < interval[0] < 0.3 and interval[1] == 1.0  # one right of one proves little


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
    assert selective["verdict"]["status"] in ("met", "missed", "missed_within_noise", "out_of_reach",
                                              "nothing_routed")
    if selective["n"]:
        assert selective["interval"][0] <= selective["accuracy"] <= selective["interval"][1]


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


def _stored(reached: bool = True) -> dict:
    return {"target_precision": 0.95, "threshold": 0.8 if reached else 1.0, "reached": reached, "per_category": {}}


def test_evaluate_says_plainly_whether_the_target_was_met_on_the_evaluated_tickets():
    from classifier.summary import routing_rows

    confidence = np.r_[np.full(200, 0.9), np.full(100, 0.5)]
    predicted = np.array(["A"] * 300, dtype=object)
    met = selective_summary(_stored(), predicted, confidence, np.r_[np.ones(196), np.zeros(104)].astype(bool))
    assert met["verdict"]["status"] == "met" and met["accuracy"] == 0.98 and met["n"] == 200
    assert met["interval"][0] < 0.98 < met["interval"][1]
    assert [row for row in routing_rows({"selective": met}) if row[0] == ""] == []  # a met target adds no line

    missed = selective_summary(_stored(), predicted, confidence, np.r_[np.ones(170), np.zeros(130)].astype(bool))
    assert missed["verdict"]["status"] == "missed" and missed["interval"][1] < 0.95
    assert missed["verdict"]["message"].startswith("target 95.0% missed: 85.0% of 200 routed tickets were right")
    assert ["", missed["verdict"]["message"]] in routing_rows({"selective": missed})

    close = selective_summary(_stored(), predicted, confidence, np.r_[np.ones(188), np.zeros(112)].astype(bool))
    assert close["verdict"]["status"] == "missed_within_noise" and close["interval"][1] >= 0.95  # 94% of 200

    out_of_reach = selective_summary(_stored(reached=False), predicted, confidence, np.ones(300, dtype=bool))
    assert out_of_reach["n"] == 0 and out_of_reach["verdict"]["status"] == "out_of_reach"
    assert "out of reach" in out_of_reach["verdict"]["message"]
    assert "nothing is routed automatically" in routing_rows({"selective": out_of_reach})[-1][1]
