"""Rendering a lineage graph as JSON, Graphviz DOT or Mermaid text (ExportLineageGraph).

Node identifiers in DOT and Mermaid are generated (n0, n1, ... in graph order), so resource names
never have to be valid identifiers; names and labels only ever appear inside quoted, escaped strings.
Data flows left to right: inputs -> run -> outputs. Runs are ellipses (Mermaid: stadiums), versions
boxes; the start node is drawn bold.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import Edge, Graph, Node, NodeKind


def render(graph: Graph, fmt: str) -> str:
    if fmt == "json":
        return render_json(graph)
    if fmt == "dot":
        return render_dot(graph)
    if fmt == "mermaid":
        return render_mermaid(graph)
    raise ValueError(f"unknown format {fmt!r}")


def node_dict(n: Node) -> dict[str, Any]:
    return {
        "name": n.name,
        "kind": "run" if n.kind is NodeKind.RUN else "artifact_version",
        "label": n.label,
        "depth": n.depth,
        "job_type": n.job_type,
        "artifact_type": n.artifact_type,
        "state": n.state,
    }


def _edge_kind(e: Edge) -> str:
    return e.kind.name.lower()


def render_json(graph: Graph) -> str:
    names = {n.key: n.name for n in graph.nodes}
    doc = {
        "root": graph.root.name,
        "truncated": graph.truncated,
        "nodes": [node_dict(n) for n in graph.nodes],
        "edges": [
            {
                "source": names[e.source],
                "target": names[e.target],
                "kind": _edge_kind(e),
                "create_time": e.create_time.isoformat(),
            }
            for e in graph.edges
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _caption(n: Node) -> str:
    """Two lines: the label, then the job type or artifact type (and state when not the usual)."""
    kind = n.job_type if n.kind is NodeKind.RUN else n.artifact_type
    usual = {"finished", "committed"}
    extra = f" ({n.state})" if n.state and n.state not in usual else ""
    return f"{n.label}\n{kind}{extra}" if kind or extra else n.label


def dot_string(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as \\n (centred lines)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def render_dot(graph: Graph) -> str:
    ids = {n.key: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    if graph.truncated:
        lines.append(f"  label={dot_string('truncated: more lineage exists beyond the limits')};")
    for n in graph.nodes:
        shape = "ellipse" if n.kind is NodeKind.RUN else "box"
        style = "bold" if n.key == graph.root.key else "solid"
        attrs = f"label={dot_string(_caption(n))}, tooltip={dot_string(n.name)}, shape={shape}, style={style}"
        lines.append(f"  {ids[n.key]} [{attrs}];")
    for e in graph.edges:
        lines.append(f"  {ids[e.source]} -> {ids[e.target]} [label={dot_string(_edge_kind(e))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    "\r": "",
}


def mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: entity codes for characters the syntax or HTML would read."""
    escaped = "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in text)
    return escaped.replace("\n", "<br/>")


def render_mermaid(graph: Graph) -> str:
    ids = {n.key: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    if graph.truncated:
        lines.append("  %% truncated: more lineage exists beyond the limits")
    for n in graph.nodes:
        label = mermaid_text(_caption(n))
        shape = f'(["{label}"])' if n.kind is NodeKind.RUN else f'["{label}"]'
        lines.append(f"  {ids[n.key]}{shape}")
    for e in graph.edges:
        lines.append(f"  {ids[e.source]} -->|{_edge_kind(e)}| {ids[e.target]}")
    lines += [
        "  classDef run fill:#eef3ff,stroke:#4a6fa5",
        "  classDef version fill:#effaf0,stroke:#4a8a55",
        "  classDef root stroke-width:3px",
    ]
    runs = [ids[n.key] for n in graph.nodes if n.kind is NodeKind.RUN]
    versions = [ids[n.key] for n in graph.nodes if n.kind is NodeKind.VERSION]
    for cls, members in (("run", runs), ("version", versions), ("root", [ids[graph.root.key]])):
        if members:
            lines.append(f"  class {','.join(members)} {cls}")
    return "\n".join(lines) + "\n"
