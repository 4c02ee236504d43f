"""Inline SVG drawings of report panels for the self-contained HTML export: line plots (one polyline
per series, its band as a polygon), bars, scalars, scatter plots, and run tables as HTML tables.
Pure Python; nothing is fetched."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

from strata.reports.v1 import report_pb2 as rp

from .report_spec import BarPlot, LinePlot, ScalarChart, ScatterPlot

W, H, PAD = 480, 280, 40
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _scale(lo: float, hi: float, a: float, b: float, log: bool = False) -> Any:
    if log:
        lo, hi = math.log10(max(lo, 1e-300)), math.log10(max(hi, 1e-300))
    span = (hi - lo) or 1.0

    def f(v: float) -> float:
        v = math.log10(max(v, 1e-300)) if log else v
        return a + (v - lo) / span * (b - a)

    return f


def _frame(body: str, xlo: float, xhi: float, ylo: float, yhi: float) -> str:
    axes = (f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#888"/>'
            f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{H - PAD}" stroke="#888"/>'
            f'<text x="{PAD}" y="{H - PAD + 14}">{xlo:.4g}</text>'
            f'<text x="{W - 10}" y="{H - PAD + 14}" text-anchor="end">{xhi:.4g}</text>'
            f'<text x="{PAD - 4}" y="{H - PAD}" text-anchor="end">{ylo:.4g}</text>'
            f'<text x="{PAD - 4}" y="16" text-anchor="end">{yhi:.4g}</text>')  # fmt: skip
    return f'<svg width="{W}" height="{H}" role="img">{axes}{body}</svg>'


def line_plot(panel: LinePlot, data: rp.PanelData) -> str:
    xs = _finite([x for s in data.series for x in s.x])
    ys = _finite([y for s in data.series for v in (s.y, s.lower, s.upper) for y in v])
    if not xs or not ys:
        return "<p>no data</p>"
    fx = _scale(min(xs), max(xs), PAD, W - 10, panel.log_x)
    fy = _scale(min(ys), max(ys), H - PAD, 10, panel.log_y)
    body, legend = [], []
    for k, s in enumerate(data.series):
        color = COLORS[k % len(COLORS)]
        if len(s.lower):
            pts = [(fx(x), fy(y)) for x, y in zip(s.x, s.upper, strict=False)]
            pts += [(fx(x), fy(y)) for x, y in zip(reversed(s.x), reversed(s.lower), strict=False)]
            body.append(f'<polygon class="band" fill="{color}" fill-opacity="0.15" points="{_pts(pts)}"/>')
        pts = [(fx(x), fy(y)) for x, y in zip(s.x, s.y, strict=False) if math.isfinite(y)]
        label = html.escape(f"{s.key} {_label(s.group)}")
        body.append(f'<polyline class="series" fill="none" stroke="{color}" points="{_pts(pts)}">'
                    f"<title>{label}</title></polyline>")  # fmt: skip
        legend.append(f'<span style="color:{color}">&#9632; {label} ({s.run_count} runs)</span>')
    return _frame("".join(body), min(xs), max(xs), min(ys), max(ys)) + "<br>" + " ".join(legend)


def _label(group: str) -> str:
    try:
        value = json.loads(group)
    except ValueError:
        return group
    return value if isinstance(value, str) else json.dumps(value)


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def bars(data: rp.PanelData) -> str:
    values = [v if math.isfinite(v) else 0.0 for v in data.values]
    if not values:
        return "<p>no data</p>"
    hi, lo = max(*values, 0.0), min(*values, 0.0)
    fy = _scale(lo, hi, H - PAD, 10)
    width = (W - PAD - 10) / len(values)
    body = []
    for k, (label, v) in enumerate(zip(data.labels, values, strict=True)):
        x, y0, y1 = PAD + k * width, fy(0.0), fy(v)
        body.append(f'<rect class="bar" x="{x + 2:.1f}" y="{min(y0, y1):.1f}" width="{width - 4:.1f}" '
                    f'height="{abs(y1 - y0):.1f}" fill="{COLORS[k % len(COLORS)]}">'
                    f"<title>{html.escape(_label(label))}: {v:.4g}</title></rect>")  # fmt: skip
    return _frame("".join(body), 0, len(values), lo, hi)


def scatter(panel: ScatterPlot, data: rp.PanelData) -> str:
    pts = [(_num(r.values[1]), _num(r.values[2]), r.display_name) for r in data.rows]
    pts = [(x, y, n) for x, y, n in pts if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        return "<p>no data</p>"
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    fx = _scale(min(xs), max(xs), PAD, W - 10, panel.log_x)
    fy = _scale(min(ys), max(ys), H - PAD, 10, panel.log_y)
    body = "".join(f'<circle class="point" cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="{COLORS[0]}">'
                   f"<title>{html.escape(n)}</title></circle>" for x, y, n in pts)  # fmt: skip
    return _frame(body, min(xs), max(xs), min(ys), max(ys))


def _num(value_json: str) -> float:
    value = json.loads(value_json)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def table(data: rp.PanelData) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in data.columns)
    rows = []
    for r in data.rows:
        cells = []
        for v in r.values:
            value = json.loads(v)
            text = "" if value is None else (f"{value:.6g}" if isinstance(value, float) else str(value))
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="runs"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def panel(spec: Any, data: rp.PanelData) -> str:
    if isinstance(spec, LinePlot):
        return line_plot(spec, data)
    if isinstance(spec, BarPlot):
        return bars(data)
    if isinstance(spec, ScalarChart):
        value = data.values[0] if data.values else math.nan
        return f'<p class="scalar" style="font-size:2em">{value:.4g}</p>'
    if isinstance(spec, ScatterPlot):
        return scatter(spec, data)
    return table(data)
