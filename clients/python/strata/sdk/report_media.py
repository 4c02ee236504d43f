"""A MediaPanel in the HTML export: for each run of the panel's data (the runs of its runset that logged
the key, at most 12), the key's values at its newest steps (at most MAX_STEPS, newest first, each
labelled with its step), inline and self-contained: images as data: URIs in a strip of steps (PNG,
JPEG, GIF; an SVG in an <img>, where it runs no script), tables as HTML tables (cells as text),
histograms as inline SVG bars, HTML in an <iframe sandbox srcdoc> (no script, no same-origin rights),
Plotly figures as JSON data drawn by the vendored plotly.js (report_plotly.py), text preformatted.
Other than images, the newest step is shown and the earlier ones sit in a <details> list (no script
needed to open it). Nothing is fetched when the page opens.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from strata.client import Client
from strata.query.v1 import query_service_pb2 as q
from strata.reports.v1 import report_pb2 as rp
from strata.wire import media_formats

from ._media_read import MediaValue, table
from .report_plotly import PlotlyInline, note

MAX_STEPS = 8  # per run, newest first
MAX_IMAGES = 8  # per run and step
MAX_ROWS = 50  # table rows shown
MAX_BYTES = 4 << 20  # a value larger than this is named, not inlined
MAX_EARLIER_BYTES = 2 << 20  # per run, bytes inlined for the steps before its newest; older ones are left out

Steps = list[tuple[int, list[MediaValue]]]


def newest_steps(client: Client, run: str, key: str, limit: int = MAX_STEPS) -> Steps:
    """The run's values of `key` at its newest `limit` steps, newest first, each step's values by list
    position. Reads pages (latest first) only until the steps are complete."""
    steps: dict[int, list[MediaValue]] = {}
    token = ""
    while True:
        resp = client.query.ListMedia(q.ListMediaRequest(run=run, key=key, page_size=1000, page_token=token))
        for entry in resp.entries:
            if entry.step not in steps and len(steps) == limit:
                return _ordered(steps)
            steps.setdefault(entry.step, []).append(MediaValue(client, run, entry))
        token = resp.next_page_token
        if not token:
            return _ordered(steps)


def _ordered(steps: dict[int, list[MediaValue]]) -> Steps:
    return [(s, sorted(vs, key=lambda v: v.index)) for s, vs in sorted(steps.items(), reverse=True)]


def panel(client: Client, key: str, data: rp.PanelData, plotly: PlotlyInline) -> str:
    """The panel's HTML: one section per run (its name, then its values at its newest steps)."""
    if not data.rows:
        return f"<p><em>No run of this panel logged <code>{html.escape(key)}</code>.</em></p>"
    parts = []
    for row in data.rows:
        steps = newest_steps(client, row.run, key)
        body = _run_body(client, row.run, key, steps, plotly) if steps else "<p><em>no values</em></p>"
        name = html.escape(row.display_name or row.run.rsplit("/", 1)[-1])
        latest = steps[0][0] if steps else 0
        parts.append(
            f'<div class="media" data-run="{html.escape(row.run)}" data-steps="{len(steps)}"><h5>{name} '
            f"<small>step {latest}</small></h5>{body}</div>"
        )
    return "".join(parts)


def _run_body(client: Client, run: str, key: str, steps: Steps, plotly: PlotlyInline) -> str:
    if steps[0][1][0].type == "image":
        return _image_strip(steps)
    newest, budget = _step(client, run, key, *steps[0], plotly), MAX_EARLIER_BYTES
    earlier: list[str] = []
    for step, values in steps[1:]:
        budget -= sum(v.size for v in values)
        if budget < 0:
            earlier.append(_left_out(len(steps) - 1 - len(earlier)))
            break
        earlier.append(_step(client, run, key, step, values, plotly))
    if not earlier:
        return newest
    n = len(steps) - 1
    label = f"1 earlier step: {steps[1][0]}" if n == 1 else f"{n} earlier steps: {steps[1][0]}…{steps[-1][0]}"
    return f'{newest}<details class="earlier"><summary>{label}</summary>{"".join(earlier)}</details>'


def _step(
    client: Client, run: str, key: str, step: int, values: list[MediaValue], plotly: PlotlyInline
) -> str:
    body = _values(client, run, key, values, plotly)
    return f'<div class="step" data-step="{step}"><div class="step-label">step {step}</div>{body}</div>'


def _image_strip(steps: Steps) -> str:
    """Images of each step side by side, newest first, each step labelled; the newest step is always
    shown, older steps until their bytes pass MAX_EARLIER_BYTES."""
    out, budget = [], MAX_EARLIER_BYTES
    for n, (step, values) in enumerate(steps):
        shown = values[:MAX_IMAGES]
        budget -= sum(v.size for v in shown if v.size <= MAX_BYTES) if n else 0
        if budget < 0:
            out.append(_left_out(len(steps) - n))
            break
        images = "".join(_image(v) for v in shown)
        out.append(
            f'<div class="step" data-step="{step}"><div class="step-label">step {step}</div>{images}</div>'
        )
    return '<div class="images">' + "".join(out) + "</div>"


def _left_out(n: int) -> str:
    return f"<p><em>{n} older step{'s' * (n > 1)} left out: too large to inline</em></p>"


def _values(client: Client, run: str, key: str, values: list[MediaValue], plotly: PlotlyInline) -> str:
    kind = values[0].type
    if kind == "image":
        return '<div class="images">' + "".join(_image(v) for v in values[:MAX_IMAGES]) + "</div>"
    if kind == "table":
        return _table(client, run, key, values[0].step)
    if kind == "histogram":
        return "".join(_histogram(v.metadata) for v in values)
    out = []
    for v in values:
        if v.size > MAX_BYTES:
            out.append(f"<p><em>{kind} value of {v.size:,} bytes: too large to inline.</em></p>")
        elif kind in ("audio", "video"):
            out.append(_inline(kind, v))
        elif kind == "plotly":
            out.append(_plotly(v, plotly))
        elif kind == "html":
            src = html.escape(v.text(), quote=True)
            out.append(f'<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{src}"></iframe>')
        else:
            out.append(f"<pre>{html.escape(v.text())}</pre>")
    return "".join(out)


def _plotly(v: MediaValue, plotly: PlotlyInline) -> str:
    if not plotly.available():
        return note(plotly.problem)
    try:
        return plotly.figure(v.read_bytes(), f"{v.key} step {v.step}")
    except ValueError:  # not JSON, or NaN/infinity, which plotly.js cannot read either
        return "<p><em>A Plotly figure whose JSON cannot be read.</em></p>"


def _image(v: MediaValue) -> str:
    if v.size > MAX_BYTES:
        return f"<p><em>image of {v.size:,} bytes: too large to inline</em></p>"
    return _inline("image", v)


def _inline(kind: str, v: MediaValue) -> str:
    """An image, audio or video inline as a data: URI: images (and a GIF made from frames) in <img>,
    where an SVG runs no script; sound and video in the browser's player."""
    data = v.read_bytes()
    mime = media_formats.content_type(kind, data[:1024])
    if mime == "application/octet-stream":
        return f"<p><em>{'an image' if kind == 'image' else kind} of an unknown format</em></p>"
    uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    caption = html.escape(str(v.metadata.get("caption", "")))
    label = caption or html.escape(v.key)
    player = (
        f'<img src="{uri}" alt="{label}">'
        if mime.startswith("image/")
        else f'<{kind} controls preload="metadata" src="{uri}" title="{label}"></{kind}>'
    )
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{player}{figcaption}</figure>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(value if isinstance(value, str) else json.dumps(value))


def _table(client: Client, run: str, key: str, step: int) -> str:
    t = table(client, run, key, step)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.columns)
    rows = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in t.data[:MAX_ROWS])
    more = f"<p><em>{MAX_ROWS} of {t.rows} rows</em></p>" if t.rows > MAX_ROWS else ""
    return f'<table class="media-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}'


def _histogram(meta: dict[str, Any], width: int = 360, height: int = 120) -> str:
    counts, edges = meta.get("counts") or [], meta.get("edges") or []
    if not counts or len(edges) != len(counts) + 1:
        return "<p><em>an empty histogram</em></p>"
    top = max(max(counts), 1)
    bar = width / len(counts)
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - c / top * height:.1f}" width="{max(bar - 1, 1):.1f}" '
        f'height="{c / top * height:.1f}" fill="#1f77b4"/>'
        for i, c in enumerate(counts)
    )
    label = f"{edges[0]:.4g} … {edges[-1]:.4g}"
    return (
        f'<svg class="histogram" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 16}">'
        f'{rects}<text x="0" y="{height + 12}">{html.escape(label)}</text></svg>'
    )
