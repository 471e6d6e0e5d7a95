"""Inline SVG charts for the evaluation report: no script, no network, one self-contained file."""
from __future__ import annotations

import html

WIDTH, HEIGHT, PAD = 420, 300, 40


def _x(value: float) -> float:
    return PAD + value * (WIDTH - 2 * PAD)


def _y(value: float) -> float:
    return HEIGHT - PAD - value * (HEIGHT - 2 * PAD)


def _frame(title: str, x_label: str, y_label: str, body: str) -> str:
    ticks = "".join(f'<text x="{_x(t):.0f}" y="{HEIGHT - PAD + 14}" font-size="10" text-anchor="middle">{t:.1f}</text>'
                    f'<text x="{PAD - 6}" y="{_y(t) + 3:.0f}" font-size="10" text-anchor="end">{t:.1f}</text>'
                    for t in (0.0, 0.25, 0.5, 0.75, 1.0))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-label="{html.escape(title)}"><rect x="{PAD}" y="{PAD}" width="{WIDTH - 2 * PAD}" '
            f'height="{HEIGHT - 2 * PAD}" fill="none" stroke="#999"/>{ticks}{body}'
            f'<text x="{WIDTH / 2}" y="{HEIGHT - 6}" font-size="11" text-anchor="middle">{html.escape(x_label)}</text>'
            f'<text x="12" y="{HEIGHT / 2}" font-size="11" text-anchor="middle" '
            f'transform="rotate(-90 12 {HEIGHT / 2})">{html.escape(y_label)}</text>'
            f'<text x="{WIDTH / 2}" y="16" font-size="13" text-anchor="middle">{html.escape(title)}</text></svg>')


def _line(points: list[tuple[float, float]], colour: str) -> str:
    if not points:
        return ""
    path = " ".join(f"{_x(a):.1f},{_y(b):.1f}" for a, b in points)
    dots = "".join(f'<circle cx="{_x(a):.1f}" cy="{_y(b):.1f}" r="2.5" fill="{colour}"/>' for a, b in points)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}'


def coverage_chart(coverage: list[dict]) -> str:
    """Share of tickets auto-routed against accuracy among them, one point per threshold."""
    points = [(c["coverage"], c["accuracy"]) for c in coverage if c.get("accuracy") is not None]
    return _frame("Coverage against accuracy", "share auto-routed", "accuracy of those", _line(points, "#1f77b4"))


def calibration_chart(reliability: list[dict]) -> str:
    """Mean confidence against observed accuracy per bin; the diagonal is perfect calibration."""
    diagonal = f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" stroke="#bbb" stroke-dasharray="4"/>'
    points = [(b["confidence"], b["accuracy"]) for b in reliability if b["count"]]
    return _frame("Calibration", "confidence", "observed accuracy", diagonal + _line(points, "#d62728"))


def confusion_heatmap(labels: list[str], matrix: list[list[int]]) -> str:
    """Rows are the true class, columns the predicted one; a cell's shade is its share of the row."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    rows = []
    for label, row in zip(labels, matrix):
        total = sum(row) or 1
        cells = "".join(f'<td style="background:rgba(31,119,180,{count / total:.2f})" '
                        f'title="{count / total:.0%} of {html.escape(label)}">{count}</td>' for count in row)
        rows.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    return f'<table class="heatmap"><tr><th>true \\ predicted</th>{head}</tr>{"".join(rows)}</table>'
