"""Inline SVG charts for the evaluation report: no script, no network, one self-contained file.

Axes fit the data (an accuracy between 0.86 and 0.99 gets that range, not 0 to 1), ticks fall on round
values, and every axis says in words what it shows.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

WIDTH, HEIGHT = 600, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 24, 44, 58
STEPS = (0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25)
NEW, OLD = "#1f77b4", "#ff7f0e"
DIAGONAL = ' class="diagonal"'


def _step(span: float) -> float:
    return next((step for step in STEPS if span / step <= 6 + 1e-9), 0.25)


def fit_range(values: list[float], low: float = 0.0, high: float = 1.0) -> tuple[float, float]:
    """A range around the values, padded and snapped to round ticks, within [low, high]."""
    values = [v for v in values if v is not None]
    if not values:
        return low, high
    small, large = min(values), max(values)
    pad = max(large - small, 0.05) * 0.1
    step = _step(max(large - small + 2 * pad, 0.05))
    start = max(low, math.floor((small - pad) / step) * step)
    end = min(high, math.ceil((large + pad) / step) * step)
    return round(start, 4), round(end if end > start else start + step, 4)


def ticks(start: float, end: float) -> list[float]:
    step = _step(end - start)
    first = math.ceil(start / step - 1e-9)
    return [round(i * step, 4) for i in range(first, int(math.floor(end / step + 1e-9)) + 1)]


@dataclass(frozen=True)
class Plot:
    """Maps data values to SVG coordinates inside the frame."""
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)
    width: int = WIDTH
    height: int = HEIGHT

    def x(self, value: float) -> float:
        start, end = self.x_range
        return LEFT + (value - start) / (end - start) * (self.width - LEFT - RIGHT)

    def y(self, value: float) -> float:
        start, end = self.y_range
        return self.height - BOTTOM - (value - start) / (end - start) * (self.height - TOP - BOTTOM)


def _percent(value: float) -> str:
    return f"{value * 100:.{0 if abs(value * 100 - round(value * 100)) < 1e-6 else 1}f}%"


def _frame(plot: Plot, title: str, x_label: str, y_label: str, body: str, legend: str = "") -> str:
    w, h = plot.width, plot.height
    grid = []
    for t in ticks(*plot.x_range):
        grid.append(f'<line x1="{plot.x(t):.1f}" y1="{TOP}" x2="{plot.x(t):.1f}" y2="{h - BOTTOM}" stroke="#eee"/>'
                    f'<text x="{plot.x(t):.1f}" y="{h - BOTTOM + 18}" font-size="13" text-anchor="middle">'
                    f'{_percent(t)}</text>')
    for t in ticks(*plot.y_range):
        grid.append(f'<line x1="{LEFT}" y1="{plot.y(t):.1f}" x2="{w - RIGHT}" y2="{plot.y(t):.1f}" stroke="#eee"/>'
                    f'<text x="{LEFT - 8}" y="{plot.y(t) + 4:.1f}" font-size="13" text-anchor="end">{_percent(t)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
            f'aria-label="{html.escape(title)}">{"".join(grid)}'
            f'<rect x="{LEFT}" y="{TOP}" width="{w - LEFT - RIGHT}" height="{h - TOP - BOTTOM}" fill="none" stroke="#888"/>'
            f'{body}<text x="{(LEFT + w - RIGHT) / 2}" y="{h - 14}" font-size="14" text-anchor="middle">'
            f'{html.escape(x_label)}</text><text x="18" y="{(TOP + h - BOTTOM) / 2}" font-size="14" text-anchor="middle" '
            f'transform="rotate(-90 18 {(TOP + h - BOTTOM) / 2})">{html.escape(y_label)}</text>'
            f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{html.escape(title)}</text>{legend}</svg>')


def _line(plot: Plot, points: list[tuple[float, float]], colour: str, labels: list[str] | None = None,
          sizes: list[float] | None = None, above: bool = False) -> str:
    """A polyline with dots; labels beside each dot, or centred `above` it."""
    if not points:
        return ""
    path = " ".join(f"{plot.x(a):.1f},{plot.y(b):.1f}" for a, b in points)
    parts = [f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>']
    for i, (a, b) in enumerate(points):
        radius = sizes[i] if sizes else 4
        parts.append(f'<circle cx="{plot.x(a):.1f}" cy="{plot.y(b):.1f}" r="{radius:.1f}" fill="{colour}"/>')
        if labels and labels[i]:
            near_right = plot.x(a) > plot.width - RIGHT - 50  # keep the label inside the frame
            anchor = "middle" if above else ("end" if near_right else "start")
            shift = 0 if above else (-7 if near_right else 7)
            rise = (sizes[i] if sizes else 4) + 5
            parts.append(f'<text x="{plot.x(a) + shift:.1f}" y="{plot.y(b) - rise:.1f}" font-size="12" fill="#333" '
                         f'text-anchor="{anchor}">{html.escape(labels[i])}</text>')
    return "".join(parts)


def _legend(entries: list[tuple[str, str]], width: int = WIDTH) -> str:
    parts, x = [], width - RIGHT - 10
    for name, colour in reversed(entries):
        x -= 8 * len(name) + 26
        parts.append(f'<rect x="{x}" y="14" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 17}" y="25" font-size="13">{html.escape(name)}</text>')
    return "".join(parts)


def coverage_chart(coverage: list[dict], chosen: float | None = None) -> str:
    """Share of tickets auto-routed against accuracy among them, one labelled point per threshold."""
    rows = [c for c in coverage if c.get("accuracy") is not None]
    points, labels = [], []
    for c in rows:  # thresholds below every confidence land on one point: one label "0–0.5"
        if points and points[-1] == (c["coverage"], c["accuracy"]):
            labels[-1] = f"{labels[-1].split('–')[0]}–{c['threshold']:g}"
        else:
            points.append((c["coverage"], c["accuracy"]))
            labels.append(f"{c['threshold']:g}")
    plot = Plot(fit_range([p[0] for p in points]), fit_range([p[1] for p in points]))
    body = _line(plot, points, NEW, labels)
    mark = next((c for c in rows if chosen is not None and abs(c["threshold"] - chosen) < 1e-9), None)
    if mark:
        body += (f'<circle cx="{plot.x(mark["coverage"]):.1f}" cy="{plot.y(mark["accuracy"]):.1f}" r="8" fill="none" '
                 f'stroke="#d62728" stroke-width="2.5"><title>threshold {chosen:g} in use</title></circle>')
    return _frame(plot, "Auto-routing: share routed against accuracy", "share of tickets auto-routed",
                  "accuracy among the auto-routed", body)


def calibration_chart(reliability: list[dict]) -> str:
    """Mean confidence against observed accuracy per bin (dot area: tickets in it); the diagonal is perfect."""
    rows = [b for b in reliability if b["count"]]
    values = [b["confidence"] for b in rows] + [b["accuracy"] for b in rows]
    span = fit_range(values)
    plot = Plot(span, span)
    diagonal = (f'<line x1="{plot.x(span[0]):.1f}" y1="{plot.y(span[0]):.1f}" x2="{plot.x(span[1]):.1f}" '
                f'y2="{plot.y(span[1]):.1f}" stroke="#999" stroke-dasharray="5"/>')
    largest = max((b["count"] for b in rows), default=1)
    sizes = [3 + 7 * math.sqrt(b["count"] / largest) for b in rows]
    body = _line(plot, [(b["confidence"], b["accuracy"]) for b in rows], "#d62728", [f"{b['count']:,}" for b in rows],
                 sizes, above=True)
    return _frame(plot, "Calibration (labels: tickets per bin)", "confidence the model gave",
                  "share that was right", diagonal + body)


def f1_bars(classes: list[str], new: dict[str, float | None], old: dict[str, float | None] | None = None,
            names: tuple[str, str] = ("this model", "in service")) -> str:
    """Horizontal bars of F1 per class, this model beside the one in service."""
    row, label_width = (40 if old else 28), min(260, 12 + 8 * max((len(c) for c in classes), default=4))
    width, height = WIDTH + label_width, TOP + row * len(classes) + BOTTOM
    left = LEFT + label_width
    scale = width - left - RIGHT  # pixels for an F1 of 1
    parts = []
    for i, name in enumerate(classes):
        top = TOP + i * row + 4
        parts.append(f'<text x="{left - 8}" y="{top + row / 2:.0f}" font-size="13" text-anchor="end">'
                     f'{html.escape(name)}</text>')
        for j, (values, colour) in enumerate(((new, NEW), (old, OLD)) if old else ((new, NEW),)):
            value = values.get(name)
            if value is None:
                continue
            y = top + j * (row - 6) / (2 if old else 1)
            bar = (row - 10) / (2 if old else 1)
            parts.append(f'<rect x="{left}" y="{y:.1f}" width="{scale * value:.1f}" height="{bar:.1f}" '
                         f'fill="{colour}"><title>{html.escape(name)}: F1 {value:.3f}</title></rect>'
                         f'<text x="{left + scale * value + 4:.1f}" y="{y + 11:.1f}" font-size="11">{value:.2f}</text>')
    axis = "".join(f'<text x="{left + scale * t:.1f}" y="{height - BOTTOM + 18}" font-size="13" text-anchor="middle">'
                   f'{t:.1f}</text><line x1="{left + scale * t:.1f}" y1="{TOP}" x2="{left + scale * t:.1f}" '
                   f'y2="{height - BOTTOM}" stroke="#eee"/>' for t in (0, 0.2, 0.4, 0.6, 0.8, 1.0))
    legend = _legend([(names[0], NEW), (names[1], OLD)] if old else [(names[0], NEW)], width)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="F1 per class">{axis}{"".join(parts)}'
            f'<text x="{(left + width) / 2:.0f}" y="{height - 14}" '
            f'font-size="14" text-anchor="middle">F1 (harmonic mean of precision and recall)</text>'
            f'<text x="{LEFT}" y="24" font-size="16" font-weight="bold">F1 per class</text>{legend}</svg>')


def confusion_heatmap(labels: list[str], matrix: list[list[int]]) -> str:
    """Rows are the true class, columns the predicted one; a cell's shade is its share of the row."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    rows = []
    for i, (label, row) in enumerate(zip(labels, matrix)):
        total = sum(row) or 1
        cells = "".join(f'<td style="background:rgba(31,119,180,{count / total:.2f})'
                        f'{";color:#fff" if count / total > 0.55 else ""}"{DIAGONAL if i == j else ""} '
                        f'title="{count / total:.0%} of {html.escape(label)}">{count}</td>' for j, count in enumerate(row))
        rows.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    return f'<table class="heatmap"><tr><th>true \\ predicted</th>{head}</tr>{"".join(rows)}</table>'
