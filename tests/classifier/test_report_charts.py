"""The evaluation report's charts: reliability bins, axes that fit the data, points where the data says."""
from __future__ import annotations

import numpy as np

from classifier.evaluation import reliability
from classifier.report_charts import Plot, calibration_chart, confusion_heatmap, coverage_chart, f1_bars, fit_range, ticks


def test_reliability_bins_count_and_average_what_falls_in_them():
    confidence = np.array([0.05, 0.15, 0.95, 0.97, 1.0])
    correct = np.array([False, True, True, False, True])
    table = reliability(confidence, correct, bins=10)
    assert [row["count"] for row in table] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 3]
    assert table[9]["confidence"] == round((0.95 + 0.97 + 1.0) / 3, 4)
    assert table[9]["accuracy"] == round(2 / 3, 4)
    assert table[2]["accuracy"] is None


def test_axes_fit_the_data_and_tick_on_round_values():
    start, end = fit_range([0.86, 0.93, 0.99])
    assert 0.8 <= start < 0.86 and 0.99 < end <= 1.0
    assert fit_range([0.0, 1.0]) == (0.0, 1.0)
    assert ticks(0.8, 1.0) == [0.8, 0.85, 0.9, 0.95, 1.0]


def test_coverage_chart_draws_the_points_on_fitted_axes_and_marks_the_threshold():
    coverage = [{"threshold": 0.0, "coverage": 1.0, "accuracy": 0.88}, {"threshold": 0.5, "coverage": 1.0, "accuracy": 0.88},
                {"threshold": 0.7, "coverage": 0.8, "accuracy": 0.95}, {"threshold": 0.9, "coverage": 0.5, "accuracy": 0.99}]
    svg = coverage_chart(coverage, chosen=0.7)
    plot = Plot(fit_range([1.0, 0.8, 0.5]), fit_range([0.88, 0.95, 0.99]))
    assert plot.y_range[0] > 0.5  # not squashed into the top of a 0..1 axis
    assert f'cx="{plot.x(0.8):.1f}" cy="{plot.y(0.95):.1f}"' in svg
    assert svg.count("<circle") == 4  # three distinct points and the ring around the threshold in use
    assert ">0–0.5<" in svg and "threshold 0.7 in use" in svg
    assert "share of tickets auto-routed" in svg and ">90%<" in svg


def test_calibration_chart_skips_empty_bins():
    svg = calibration_chart([{"count": 4, "confidence": 0.5, "accuracy": 0.25}, {"count": 0, "confidence": None,
                                                                                  "accuracy": None}])
    assert svg.count("<circle") == 1


def test_f1_bars_put_both_models_side_by_side():
    svg = f1_bars(["a", "<b>"], {"a": 0.9, "<b>": 0.5}, {"a": 0.8})
    assert svg.count("<rect") == 3 + 2  # three bars, two legend keys
    assert "&lt;b&gt;" in svg and "<b>" not in svg


def test_the_heatmap_shades_each_cell_by_its_share_of_the_row():
    page = confusion_heatmap(["a", "b"], [[3, 1], [0, 2]])
    assert "rgba(31,119,180,0.75)" in page and "rgba(31,119,180,0.25)" in page
    assert "rgba(31,119,180,1.00)" in page and "rgba(31,119,180,0.00)" in page
    assert page.count('class="diagonal"') == 2
