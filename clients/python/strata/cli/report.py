"""`strata report ...`: list a project's reports, show one, export one as Markdown or self-contained HTML.

strata report ls ml-research/text-classifier
strata report show http://console:8080/p/ml-research/text-classifier/reports/3f2a9c81d0e4
strata report export ml-research/text-classifier/3f2a9c81d0e4 --markdown out.md --top 10
strata report export ml-research/text-classifier/3f2a9c81d0e4 --html out.html   # opens offline
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report",
        help="list, show and export reports",
        description="Reports: documents of charts, run tables and Markdown computed from live runs.",
    )
    cmds = report.add_subparsers(dest="report_command", metavar="COMMAND")
    ls = cmds.add_parser(
        "ls",
        help="list a project's reports (newest first)",
        description="List the reports of a project, newest first, with their revision and author.",
    )
    ls.add_argument("project", metavar="ENTITY/PROJECT", nargs="?", default=None)
    ls.set_defaults(func=_ls)
    show = cmds.add_parser(
        "show",
        help="print a report's blocks and its revisions",
        description="Print a report's title, blocks and panels, and its revision history.",
    )
    show.add_argument("report", metavar="URL|NAME", help="console URL, resource name or entity/project/id")
    show.set_defaults(func=_show)
    export = cmds.add_parser(
        "export",
        help="write a report as Markdown or self-contained HTML",
        description=(
            "Write a report with its panels computed now: Markdown (headings, Markdown blocks, run "
            "tables as tables) or one HTML file that opens with no network (data and SVG charts inline)."
        ),
    )
    export.add_argument("report", metavar="URL|NAME")
    what = export.add_mutually_exclusive_group(required=True)
    what.add_argument("--markdown", metavar="FILE", help="Markdown ('-': standard output)")
    what.add_argument("--html", metavar="FILE", help="one HTML file, data and charts inline ('-': stdout)")
    export.add_argument(
        "--top", type=int, default=None, help="Markdown: at most this many rows per run table"
    )
    export.set_defaults(func=_export)
    report.set_defaults(func=lambda args: report.print_help() or 2)


def _api(args: argparse.Namespace) -> Any:
    from strata.sdk.api import Api

    return Api(getattr(args, "addr", None))


def _ls(args: argparse.Namespace) -> int:
    for r in _api(args).reports(args.project):
        print(f"{r.id}\trev {r.revision}\t{r.title}\t{r.url}")
    return 0


def _show(args: argparse.Namespace) -> int:
    report = _api(args).report(args.report)
    print(f"{report.title}  (revision {report.revision})\n{report.url}")
    if report.description:
        print(report.description)
    for i, block in enumerate(report.blocks):
        print(f"  [{i}] {block!r}")
    print("revisions:")
    for rev in report.revisions():
        print(
            f"  {rev.revision}\t{rev.action}\t{rev.author.name}\t{rev.create_time.ToDatetime().isoformat()}Z"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    report = _api(args).report(args.report)
    text = report.export_markdown(args.top) if args.markdown else report.export_html()
    target = args.markdown or args.html
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
    return 0
