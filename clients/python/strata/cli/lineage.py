"""`strata lineage`: trace, impact, diff, export and link.

strata lineage bert-classifier:v12 --upstream --format dot > v12.dot
strata lineage support-tickets:v0 --impact
strata lineage diff bert-classifier:v11 bert-classifier:v12
strata lineage link entities/e/projects/p/runs/abc123 model:v3 --produced
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TypedDict

from strata.client import Client

if TYPE_CHECKING:
    from strata.sdk.lineage import Graph, Impact

DESCRIPTION = """Walk the run <-> artifact lineage graph.

  strata lineage NODE [--upstream | --downstream | --both | --impact] [--depth N] [--format FMT]
  strata lineage diff OLD NEW          how two versions of one artifact differ (inputs, files, metadata)
  strata lineage link RUN VERSION (--produced | --used)   record an edge after the fact (idempotent)

NODE is an artifact reference (name:v3, name:alias, project/name:alias, entity/project/name:alias, or a
version resource name) or a run resource name (entities/E/projects/P/runs/ID). References without
entity/project use --entity/--project, else $STRATA_ENTITY/$STRATA_PROJECT and your own entity.
RUN (for link) may also be entity/project/run_id, project/run_id or run_id."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lineage",
        help="trace lineage (upstream, downstream, impact), diff versions, export DOT/Mermaid, link runs",
        description=DESCRIPTION,
        usage="strata lineage NODE [options]\n       strata lineage diff OLD NEW [--depth N] [--format text|json]\n"
        "       strata lineage link RUN VERSION (--produced | --used)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", nargs="+", metavar="ARG", help="NODE, or: diff OLD NEW, or: link RUN VERSION")
    _trace_options(p)
    kind = p.add_argument_group("link").add_mutually_exclusive_group()
    kind.add_argument(
        "--produced", dest="kind", action="store_const", const="produced", help="RUN produced VERSION"
    )
    kind.add_argument("--used", dest="kind", action="store_const", const="used", help="RUN used VERSION")
    p.add_argument("--entity", help="entity for relative references")
    p.add_argument("--project", help="project for relative references")
    p.set_defaults(func=run, direction=None, kind=None)


def _trace_options(p: argparse.ArgumentParser) -> None:
    walk = p.add_argument_group("tracing NODE").add_mutually_exclusive_group()
    walk.add_argument(
        "--upstream",
        dest="direction",
        action="store_const",
        const="upstream",
        help="what NODE came from (default)",
    )
    walk.add_argument(
        "--downstream",
        dest="direction",
        action="store_const",
        const="downstream",
        help="what was derived from NODE",
    )
    walk.add_argument("--both", dest="direction", action="store_const", const="both", help="both ways")
    walk.add_argument(
        "--impact",
        dest="direction",
        action="store_const",
        const="impact",
        help="everything downstream, any depth",
    )
    p.add_argument("--depth", type=int, help="maximum hops (trace default 5, diff default 10; maximum 50)")
    p.add_argument("--max-nodes", type=int, help="node cap (default 1000; impact 10000; maximum 100000)")
    p.add_argument(
        "--artifact-type", action="append", default=[], help="only follow versions of this type (repeatable)"
    )
    p.add_argument(
        "--job-type", action="append", default=[], help="only follow runs of this job type (repeatable)"
    )
    p.add_argument(
        "--format",
        choices=["text", "json", "dot", "mermaid"],
        default="text",
        help="output: text (tree), json, dot (Graphviz) or mermaid; diff supports text and json",
    )


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    target = args.target
    if target[0] == "diff":
        return _diff(args) if len(target) == 3 else _fail("usage: strata lineage diff OLD NEW")
    if target[0] == "link":
        return (
            _link(args)
            if len(target) == 3
            else _fail("usage: strata lineage link RUN VERSION --produced|--used")
        )
    if len(target) != 1:
        return _fail("give one NODE (or: diff OLD NEW, link RUN VERSION)")
    return _trace(args)


class _Where(TypedDict):
    entity: str | None
    project: str | None


def _where(args: argparse.Namespace) -> _Where:
    return {"entity": args.entity, "project": args.project}


def _trace(args: argparse.Namespace) -> int:
    from strata.sdk import lineage

    direction = args.direction or "upstream"
    filters = {"artifact_types": args.artifact_type, "job_types": args.job_type}
    with Client(args.addr) as client:
        node = args.target[0]
        if direction == "impact":
            if args.format in ("dot", "mermaid"):  # everything downstream, drawn
                text = lineage.export(
                    client,
                    node,
                    format=args.format,
                    direction="downstream",
                    depth=50,
                    max_nodes=args.max_nodes,
                    **_where(args),
                )
                print(text, end="")
                return 0
            result = lineage.impact(client, node, max_nodes=args.max_nodes, **_where(args))
            print(_impact_text(result) if args.format == "text" else _impact_json(result), end="")
            return 0
        options = {"depth": args.depth or 5, "max_nodes": args.max_nodes, **filters, **_where(args)}
        if args.format == "text":
            call = {"upstream": lineage.upstream, "downstream": lineage.downstream}.get(direction)
            graph = call(client, node, **options) if call else _both(client, node, options)
            print(graph.to_text(), end="")
        else:
            print(lineage.export(client, node, format=args.format, direction=direction, **options), end="")
    return 0


def _both(client: Client, node: str, options: dict[str, Any]) -> Graph:
    from strata.sdk import lineage

    text = lineage.export(client, node, format="json", direction="both", **options)
    doc = json.loads(text)
    return lineage.Graph(
        doc["root"],
        [lineage.Node(**n) for n in doc["nodes"]],
        [lineage.Edge(e["source"], e["target"], e["kind"]) for e in doc["edges"]],
        doc["truncated"],
    )


def _impact_text(result: Impact) -> str:
    head = f"{len(result.affected_versions)} versions and {len(result.affected_runs)} runs downstream" + (
        " (truncated)" if result.graph.truncated else ""
    )
    return result.graph.to_text() + head + "\n"


def _impact_json(result: Impact) -> str:
    doc = {
        "affected_versions": result.affected_versions,
        "affected_runs": result.affected_runs,
        "graph": result.graph.to_dict(),
    }
    return json.dumps(doc, indent=2) + "\n"


def _diff(args: argparse.Namespace) -> int:
    from strata.sdk import lineage

    if args.format not in ("text", "json"):
        return _fail("diff prints text or json")
    with Client(args.addr) as client:
        d = lineage.diff(client, args.target[1], args.target[2], depth=args.depth or 10, **_where(args))
    print(d.to_text() if args.format == "text" else json.dumps(d.to_dict(), indent=2) + "\n", end="")
    return 0


def _link(args: argparse.Namespace) -> int:
    from strata.sdk import lineage

    if args.kind is None:
        return _fail("say --produced or --used")
    with Client(args.addr) as client:
        result = lineage.link(client, args.target[1], args.target[2], kind=args.kind, **_where(args))
    e = result.edge
    state = "already recorded" if result.existed else "recorded"
    print(f"{state}: {e.source} -> {e.target} ({e.kind})")
    return 0
