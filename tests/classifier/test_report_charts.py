"""The evaluation report's charts: reliability bins, and SVG that places the points where the data says."""
from __future__ import annotations

import numpy as np

from classifier.evaluation import reliability
from classifier.report_charts import _x, _y, calibration_chart, confusion_heatmap, coverage_chart


def test_reliability_bins_count_and_average_what_falls_in_them():
    confidence = np.array([0.05, 0.15, 0.95, 0.97, 1.0])
    correct = np.array([False, True, True, False, True])
    table = reliability(confidence, correct, bins=10)
    assert [row["count"] for row in table] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 3]
    assert table[9]["confidence"] == round((0.95 + 0.97 + 1.0) / 3, 4)
    assert table[9]["accuracy"] == round(2 / 3, 4)
    assert table[2]["accuracy"] is None


def test_charts_draw_the_given_points():
    svg = coverage_chart([{"threshold": 0.7, "coverage": 0.8, "accuracy": 0.95}])
    assert f'cx="{_x(0.8):.1f}" cy="{_y(0.95):.1f}"' in svg
    svg = calibration_chart([{"count": 4, "confidence": 0.5, "accuracy": 0.25}, {"count": 0, "confidence": None,
                                                                                  "accuracy": None}])
    assert svg.count("<circle") == 1 and f'cy="{_y(0.25):.1f}"' in svg


def test_the_heatmap_shades_each_cell_by_its_share_of_the_row():
    page = confusion_heatmap(["a", "b"], [[3, 1], [0, 2]])
    assert "rgba(31,119,180,0.75)" in page and "rgba(31,119,180,0.25)" in page
    assert "rgba(31,119,180,1.00)" in page and "rgba(31,119,180,0.00)" in page
