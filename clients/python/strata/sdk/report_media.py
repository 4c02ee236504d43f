"""A MediaPanel in the HTML export: for each run of the panel's data (the runs of its runset that logged
the key, at most 12), the key's values at its latest step, inline and self-contained: images as data:
URIs (PNG, JPEG, GIF; an SVG in an <img>, where it runs no script), tables as HTML tables (cells as
text), histograms as inline SVG bars, HTML in an <iframe sandbox srcdoc> (no script, no same-origin
rights), text preformatted. Plotly figures need plotly.js, which the export does not carry: they are
named, with a pointer to the report's page. Nothing is fetched when the page opens.
"""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from strata.client import Client
from strata.reports.v1 import report_pb2 as rp

from ._media_read import MediaValue, media, table

MAX_IMAGES = 8  # per run, at the latest step
MAX_ROWS = 50  # table rows shown
MAX_BYTES = 4 << 20  # a value larger than this is named, not inlined
_IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def panel(client: Client, key: str, data: rp.PanelData) -> str:
    """The panel's HTML: one section per run (its name, then its values at the latest step)."""
    if not data.rows:
        return f"<p><em>No run of this panel logged <code>{html.escape(key)}</code>.</em></p>"
    parts = []
    for row in data.rows:
        values = media(client, row.run, key)
        latest = max((v.step for v in values), default=0)
        shown = sorted((v for v in values if v.step == latest), key=lambda v: v.index)
        body = _values(client, row.run, key, shown) if shown else "<p><em>no values</em></p>"
        name = html.escape(row.display_name or row.run.rsplit("/", 1)[-1])
        parts.append(
            f'<div class="media" data-run="{html.escape(row.run)}"><h5>{name} '
            f"<small>step {latest}</small></h5>{body}</div>"
        )
    return "".join(parts)


def _values(client: Client, run: str, key: str, values: list[MediaValue]) -> str:
    kind = values[0].type
    if kind == "image":
        return '<div class="images">' + "".join(_image(v) for v in values[:MAX_IMAGES]) + "</div>"
    if kind == "table":
        return _table(client, run, key, values[0].step)
    if kind == "histogram":
        return "".join(_histogram(v.metadata) for v in values)
    if kind == "plotly":
        return "<p><em>A Plotly figure: drawn on the report's page in the console.</em></p>"
    out = []
    for v in values:
        if v.size > MAX_BYTES:
            out.append(f"<p><em>{kind} value of {v.size:,} bytes: too large to inline.</em></p>")
        elif kind == "html":
            src = html.escape(v.text(), quote=True)
            out.append(f'<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{src}"></iframe>')
        else:
            out.append(f"<pre>{html.escape(v.text())}</pre>")
    return "".join(out)


def _image(v: MediaValue) -> str:
    if v.size > MAX_BYTES:
        return f"<p><em>image of {v.size:,} bytes: too large to inline</em></p>"
    data = v.read_bytes()
    mime = next((m for magic, m in _IMAGE_TYPES if data.startswith(magic)), "")
    if not mime and b"<svg" in data[:1024]:
        mime = "image/svg+xml"  # shown through <img>: an SVG there runs no script
    if not mime:
        return "<p><em>an image of an unknown format</em></p>"
    caption = html.escape(str(v.metadata.get("caption", "")))
    uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="{uri}" alt="{caption or html.escape(v.key)}">{figcaption}</figure>'


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
