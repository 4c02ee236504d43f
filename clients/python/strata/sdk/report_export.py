"""Reports as files: Markdown (headings, Markdown blocks, run tables as Markdown tables) and one
self-contained HTML page (data inline, charts drawn as inline SVG by _report_svg.py, Markdown blocks
rendered by strata.wire.markdown, MediaPanels' values inline by report_media.py: no script, no
stylesheet and no image is fetched, so the page opens with no network). Its Content-Security-Policy
runs no script, except, when the report has Plotly figures, the inlined plotly.js and the one fixed
script that draws them from their JSON (report_plotly.py).

Panel data is computed by the server when the export runs, so an exported "last week" report shows
the runs of the week it was exported in.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from strata.reports.v1 import report_pb2 as rp

from ..wire import markdown as report_markdown
from . import _report_svg as svg
from . import report_media, report_plotly
from ._urls import web_url
from .report_spec import (
    ArtifactLineage,
    ArtifactVersions,
    Heading,
    MarkdownBlock,
    MediaPanel,
    PanelGrid,
    RunsTable,
)

if TYPE_CHECKING:
    from .report import Report


def _cell(value_json: str) -> str:
    value = json.loads(value_json)
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value)
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(data: rp.PanelData, top: int | None = None) -> str:
    """A run table as a Markdown table, its rows in the runset's order (the first `top` when given)."""
    rows = list(data.rows)[:top] if top else list(data.rows)
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in data.columns) + " |"]
    lines.append("|" + "---|" * len(data.columns))
    lines += ["| " + " | ".join(_cell(v) for v in row.values) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(report: Report, top: int | None = None) -> str:
    """Headings, Markdown blocks and run tables (as Markdown tables); charts are named, not drawn."""
    out = [f"# {report.title}"]
    if report.description:
        out.append(report.description)
    for i, block in enumerate(report.blocks):
        if isinstance(block, Heading):
            out.append("#" * (block.level + 1) + " " + block.text)
        elif isinstance(block, MarkdownBlock):
            out.append(block.text)
        elif isinstance(block, PanelGrid):
            for j, panel in enumerate(block.panels):
                title = getattr(panel, "title", "")
                if isinstance(panel, RunsTable):
                    table = markdown_table(report.panel_data(i, j), top)
                    out.append(f"**{title}**\n\n{table}" if title else table)
                else:
                    name = title or getattr(panel, "key", "") or "untitled"
                    out.append(f"*{type(panel).__name__}: {name} (see the report's page)*")
        elif isinstance(block, (ArtifactLineage, ArtifactVersions)):
            out.append(f"*{type(block).__name__}: `{block.artifact}`*")
    return "\n\n".join(out) + "\n"


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
.panel{display:inline-block;vertical-align:top;margin:8px}svg text{font-size:11px}
.media-panel{display:block}.images{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;text-align:center}
.images img{width:128px;image-rendering:pixelated;border:1px solid #ccc}iframe{width:100%;height:240px;border:1px solid #ccc}
blockquote{border-left:3px solid #ccc;margin-left:0;padding-left:.8em}
pre{background:#f6f8fa;padding:.5em;white-space:pre-wrap}
.images .step{display:flex;flex-wrap:wrap;gap:4px;align-items:flex-start;align-content:flex-start;border-left:2px solid #ddd;padding-left:6px}
.images .step+.step img{width:64px}.images .step+.step figcaption{font-size:11px}.step-label{font-size:12px;color:#555;width:100%}.plotly-figure{min-width:480px}
details.earlier{margin:.5em 0}details.earlier>summary{cursor:pointer;color:#555}"""


def to_html(report: Report) -> str:
    """One self-contained page: data inline, charts as inline SVG, nothing loaded from anywhere."""
    body = [f"<h1>{html.escape(report.title)}</h1>"]
    if report.description:
        body.append(f"<p>{html.escape(report.description)}</p>")
    data: dict[str, Any] = {}
    plotly = report_plotly.PlotlyInline(web_url())
    for i, block in enumerate(report.blocks):
        body.append(_block_html(report, i, block, data, plotly))
    inline = html.escape(json.dumps(data, separators=(",", ":")), quote=False)
    scripts, hashes = plotly.scripts()
    policy = html.escape(report_plotly.csp(hashes), quote=False)  # its quotes are single: kept as they are
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        f"<title>{html.escape(report.title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<script type="application/json" id="report-data">{inline}</script>\n{scripts}</body></html>\n'
    )


def _block_html(
    report: Report, i: int, block: Any, data: dict[str, Any], plotly: report_plotly.PlotlyInline
) -> str:
    if isinstance(block, Heading):
        level = min(block.level + 1, 4)
        return f"<h{level}>{html.escape(block.text)}</h{level}>"
    if isinstance(block, MarkdownBlock):
        return f'<div class="markdown">{report_markdown.to_html(block.text)}</div>'
    if isinstance(block, (ArtifactLineage, ArtifactVersions)):
        return f"<p><em>{type(block).__name__}: <code>{html.escape(block.artifact)}</code></em></p>"
    if not isinstance(block, PanelGrid):
        return ""
    parts = []
    for j, panel in enumerate(block.panels):
        got = report.panel_data(i, j)
        data[f"{i}.{j}"] = _plain(got)
        title = html.escape(getattr(panel, "title", "") or type(panel).__name__)
        if isinstance(panel, MediaPanel):
            drawn = report_media.panel(report._api.client, panel.key, got, plotly)
            title = html.escape(panel.title or panel.key)
            parts.append(f'<div class="panel media-panel" data-panel="{i}.{j}"><h4>{title}</h4>{drawn}</div>')
            continue
        parts.append(f'<div class="panel" data-panel="{i}.{j}"><h4>{title}</h4>{svg.panel(panel, got)}</div>')
    return "<section>" + "".join(parts) + "</section>"


def _plain(data: rp.PanelData) -> dict[str, Any]:
    return {
        "series": [{"key": s.key, "group": s.group, "x": list(s.x), "y": list(s.y)} for s in data.series],
        "columns": list(data.columns),
        "rows": [[r.display_name, *r.values] for r in data.rows],
        "labels": list(data.labels),
        "values": [v if v == v else None for v in data.values],
    }
