"""Plain-text renderings of lineage results for terminals (`strata lineage ... --format text`).

A graph prints as a tree from the start node, one hop per indentation level, each line saying how the
node relates to its parent ("produced by", "used", ...). A node reached along several paths is
printed in full once and then as "(see above)", so shared inputs and cycles stay readable.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from strata.sdk._context import short_run_name

if TYPE_CHECKING:
    from strata.sdk.lineage import Graph, MetadataChange, Node, VersionDiff


def _describe(n: Node) -> str:
    what = f"{n.job_type or 'run'} run" if n.is_run else (n.artifact_type or "artifact")
    state = f", {n.state}" if n.state and n.state not in ("finished", "committed") else ""
    return f"{n.label}  [{what}{state}]  {n.name}"


def _relation(kind: str, child_is_upstream: bool) -> str:
    if kind == "linked":  # run -> a registry link to a version the run produced
        return "linked from the output of" if child_is_upstream else "output linked as"
    if child_is_upstream:
        return "produced by" if kind == "produced" else "used"
    return "produced" if kind == "produced" else "used by"


def graph_text(graph: Graph) -> str:
    by_name = {n.name: n for n in graph.nodes}
    children: dict[str, list[tuple[str, str]]] = defaultdict(list)  # parent -> [(relation, child)]
    for e in graph.edges:
        src, dst = by_name.get(e.source), by_name.get(e.target)
        if src is None or dst is None:
            continue
        if src.depth == dst.depth + 1:  # walking upstream: from the target to its source
            children[dst.name].append((_relation(e.kind, True), src.name))
        elif dst.depth == src.depth + 1:
            children[src.name].append((_relation(e.kind, False), dst.name))
    lines = [_describe(by_name[graph.root])] if graph.root in by_name else []
    shown = {graph.root}
    _branch(graph.root, "", children, by_name, shown, lines)
    if graph.truncated:
        lines.append("(truncated: more lineage lies beyond the depth or node limit)")
    return "\n".join(lines) + "\n"


def _branch(
    name: str,
    indent: str,
    children: dict[str, list[tuple[str, str]]],
    by_name: dict[str, Node],
    shown: set[str],
    lines: list[str],
) -> None:
    kids = sorted(children.get(name, []), key=lambda rc: (by_name[rc[1]].label, rc[1]))
    for i, (relation, child) in enumerate(kids):
        last = i == len(kids) - 1
        seen = child in shown
        suffix = "  (see above)" if seen else ""
        lines.append(f"{indent}{'└─' if last else '├─'} {relation} {_describe(by_name[child])}{suffix}")
        if not seen:
            shown.add(child)
            _branch(child, indent + ("   " if last else "│  "), children, by_name, shown, lines)


def short(version_name: str) -> str:
    """entities/e/projects/p/artifacts/a/versions/v3 -> a:v3"""
    if "/artifacts/" not in version_name:
        return version_name
    return version_name.split("/artifacts/", 1)[1].replace("/versions/", ":")


def _digest(d: str) -> str:
    return d[:12] if d else "-"


def diff_text(d: VersionDiff) -> str:
    lines = [f"{short(d.old_version)} -> {short(d.new_version)}"]
    lines.append("Upstream inputs that differ (nearest first):" if d.inputs else "Upstream inputs: identical")
    for c in d.inputs:
        artifact = c.artifact.rsplit("/", 1)[-1]
        old = short(c.old_version).rpartition(":")[2] if c.old_version else "(none)"
        new = short(c.new_version).rpartition(":")[2] if c.new_version else "(none)"
        note = "   <- origin: nothing upstream of it differs" if c.origin else ""
        lines.append(f"  depth {c.depth:<3} {artifact}  {old} -> {new}{note}")
    counts = f"{d.files_added} added, {d.files_removed} removed, {d.files_changed} changed"
    lines.append(f"Files: {counts}" + (" (list truncated)" if d.files_truncated else ""))
    for f in d.files:
        if f.change == "added":
            lines.append(f"  + {f.path}  ({f.new_size} B)")
        elif f.change == "removed":
            lines.append(f"  - {f.path}")
        else:
            old = f.old_reference_uri or _digest(f.old_sha256)
            new = f.new_reference_uri or _digest(f.new_sha256)
            lines.append(f"  M {f.path}  {old} -> {new}")
    lines.append("Metadata:" if d.metadata else "Metadata: identical")
    lines += _changes(d.metadata)
    if d.old_producer and d.new_producer:
        runs = f"{short_run_name(d.old_producer)} -> {short_run_name(d.new_producer)}"
        lines.append(f"Config of the producing runs ({runs}):" if d.config else f"Config ({runs}): identical")
        lines += _changes(d.config)
    else:
        lines.append("Config: not compared (a producing run is unknown or not readable)")
    return "\n".join(lines) + "\n"


def _changes(changes: list[MetadataChange]) -> list[str]:
    lines = []
    for m in changes:
        if not m.old_value_json:
            lines.append(f"  + {m.key}: {m.new_value_json}")
        elif not m.new_value_json:
            lines.append(f"  - {m.key}: {m.old_value_json}")
        else:
            lines.append(f"  ~ {m.key}: {m.old_value_json} -> {m.new_value_json}")
    return lines
