"""The HTML report: readable labels, the class-by-class comparison with the model in service, the most
confident mistakes, and every ticket text and label escaped."""
from __future__ import annotations

import numpy as np

from classifier.evaluation import worst_misclassified
from classifier.report import render
from classifier.ticket import Ticket


def _result(per_class: dict, **extra) -> dict:
    return {"n": 100, "accuracy": 0.9, "macro_f1": 0.88, "weighted_f1": 0.9, "ece": 0.02, "per_class": per_class,
            "coverage": [{"threshold": 0.7, "coverage": 0.8, "accuracy": 0.97}],
            "reliability": [{"count": 100, "confidence": 0.9, "accuracy": 0.9}],
            "routed": {"threshold": 0.7, "share": 0.8, "n": 80, "accuracy": 0.97},
            "latency_ms": {"p50": 5.0, "p99": 9.0}, "confusion": {"labels": [], "matrix": []}, **extra}


def _scores(f1: float, support: int = 50) -> dict:
    return {"precision": f1, "recall": f1, "f1": f1, "support": support}


def test_the_comparison_sets_both_models_side_by_side_class_by_class(trained):
    model, _ = trained
    new = _result({"Access": _scores(0.9), "Billing": _scores(0.7), "<img src=x>": _scores(0.5, 3)})
    old = {**_result({"Access": _scores(0.8), "Billing": _scores(0.75)}), "model_version": "20250101-000000-aaaaaa"}
    page = render(model, new, {}, old)
    assert "Against the model in service (20250101-000000-aaaaaa)" in page
    assert ('<tr class="better"><td>Access</td><td>50</td><td>0.900</td><td>0.800</td><td>0.900</td><td>0.800</td>'
            '<td>0.900</td><td>0.800</td><td>+0.100</td></tr>') in page
    assert '<tr class="worse"><td>Billing</td>' in page and "<td>-0.050</td>" in page
    assert "<td>&lt;img src=x&gt;</td><td>3</td><td>0.500</td><td>–</td>" in page  # a class only this model has
    assert "<img" not in page
    assert "<td>Macro-F1 (every class weighs the same)</td><td>0.880</td><td>0.880</td><td>+0.000</td>" in page
    assert "Auto-routed at confidence ≥ 0.7" in page and "macro_f1" not in page


def test_without_a_model_in_service_the_report_says_why(trained):
    model, _ = trained
    page = render(model, _result({"Access": _scores(0.9)}), {}, None, "No model in service to compare with.")
    assert "No model in service to compare with." in page and "F1 change" not in page
    assert "<td>Access</td><td>0.900</td><td>0.900</td><td>0.900</td><td>50</td>" in page


def test_the_most_confident_mistakes_come_first_cut_and_escaped(trained):
    model, _ = trained
    tickets = [Ticket(body="fine"), Ticket(body="&lt;b onmouseover=alert(1)&gt;" + "long words " * 40),
               Ticket(body="<p>printer</p> jammed")]
    truth = np.array(["A", "B", "C"], dtype=object)
    predicted = np.array(["A", "C", "A"], dtype=object)
    examples = worst_misclassified(tickets, truth, predicted, np.array([0.99, 0.95, 0.6]), top=5)
    assert [e["row"] for e in examples] == [2, 3]  # the right one is not listed; surest mistake first
    assert examples[0]["text"].startswith("<b onmouseover=alert(1)>") and examples[0]["text"].endswith("…")
    assert len(examples[0]["text"]) == 201 and examples[1]["text"] == "printer jammed"
    page = render(model, _result({"A": _scores(0.5)}, misclassified=examples), {})
    assert "&lt;b onmouseover=alert(1)&gt;" in page and "<b onmouseover" not in page
    assert "<td>2</td><td>95.0%</td><td>B</td><td>C</td>" in page
