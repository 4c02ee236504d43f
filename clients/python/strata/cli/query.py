"""`strata runs ...`: search runs, show one, print or export sampled history, count and group.

    strata runs list ml-research/text-classifier --filter '{"config.lr": {"$gt": 1e-4}}' \\
        --order=-summary.val/f1 --limit 10 --columns config.lr,summary.val/f1
    strata runs get ml-research/text-classifier/abc123
    strata runs history ml-research/text-classifier/abc123 --keys train/loss,val/loss --samples 200 --format csv
    strata runs count ml-research/text-classifier --filter '{"state": "finished"}'
    strata runs group ml-research/text-classifier --by config.optimizer --metric summary.val/f1
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "csv", "json")
BASE_COLUMNS = ["run_id", "state", "name", "job_type", "group", "created_at"]  # name: the display name


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser(
        "runs",
        help="search runs, show one, read history, count and group (the query API)",
        description="Query runs with W&B-style Mongo filters and read their history.",
    )
    cmds = runs.add_subparsers(dest="runs_command", metavar="COMMAND")
    _list(cmds)
    _get(cmds)
    _history(cmds)
    _count(cmds)
    _group(cmds)
    runs.set_defaults(func=lambda args: runs.print_help() or 2)


def _format(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")


def _list(cmds: argparse._SubParsersAction) -> None:
    p = cmds.add_parser(
        "list",
        help="search a project's runs",
        description="List runs matching a filter, in order. Filter keys: state, tags, group, job_type, user, "
        "display_name, created_at, config.<key>, summary.<metric>[.min|.max|.mean] (see docs/guides/query.md).",
    )
    p.add_argument("project", metavar="ENTITY/PROJECT")
    p.add_argument("--filter", default="", help='Mongo-style JSON, e.g. \'{"config.lr": {"$gt": 0.001}}\'')
    p.add_argument(
        "--order",
        action="append",
        default=[],
        type=_order_key,
        help="order key, repeatable: --order=-summary.val/f1 (note the '='), or summary.val/f1:desc",
    )
    p.add_argument("--limit", type=int, default=50, help="at most this many runs (default 50)")
    p.add_argument(
        "--columns", default="", help="extra columns, comma-separated (config.<key>, summary.<key>)"
    )
    _format(p)
    p.set_defaults(func=cmd_list)


def _get(cmds: argparse._SubParsersAction) -> None:
    p = cmds.add_parser(
        "get", help="show one run", description="Show a run's attributes, config and summary."
    )
    p.add_argument("run", metavar="ENTITY/PROJECT/RUN_ID")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_get)


def _history(cmds: argparse._SubParsersAction) -> None:
    p = cmds.add_parser(
        "history",
        help="print a run's sampled history",
        description="Sampled history (first/last points and per-bucket extremes kept), one row per step.",
    )
    p.add_argument("run", metavar="ENTITY/PROJECT/RUN_ID")
    p.add_argument("--keys", default="", help="comma-separated metric keys (default: all)")
    p.add_argument("--samples", type=int, default=500, help="points per key (default 500; 0 with --all)")
    p.add_argument("--all", action="store_true", help="every point (streams ScanHistory) instead of a sample")
    p.add_argument("--min-step", type=int, default=None)
    p.add_argument("--max-step", type=int, default=None)
    p.add_argument("--x-axis", default="_step", help='"_step", "_timestamp" or a metric key')
    _format(p)
    p.set_defaults(func=cmd_history)


def _count(cmds: argparse._SubParsersAction) -> None:
    p = cmds.add_parser(
        "count", help="count runs matching a filter", description="Count runs matching a filter."
    )
    p.add_argument("project", metavar="ENTITY/PROJECT")
    p.add_argument("--filter", default="")
    p.set_defaults(func=cmd_count)


def _group(cmds: argparse._SubParsersAction) -> None:
    p = cmds.add_parser(
        "group",
        help="aggregate a summary metric per group",
        description="Group matching runs by a key and aggregate a summary metric (count, mean, min, max).",
    )
    p.add_argument("project", metavar="ENTITY/PROJECT")
    p.add_argument("--by", required=True, help="group key, e.g. config.lr, group, job_type, tags")
    p.add_argument("--metric", required=True, help="e.g. summary.val/f1 or summary.val/loss.min")
    p.add_argument("--filter", default="")
    _format(p)
    p.set_defaults(func=cmd_group)


def _order_key(text: str) -> str:
    for suffix, sign in ((":desc", "-"), (":asc", "+")):
        if text.endswith(suffix):
            return sign + text[: -len(suffix)]
    return text


def _api(args: argparse.Namespace) -> Any:
    from strata.sdk.api import Api

    return Api(getattr(args, "addr", None))


def _filter(text: str) -> str:
    try:
        if text:
            json.loads(text)
    except ValueError as e:
        raise SystemExit(f"error: --filter is not valid JSON: {e}") from None
    return text


def cmd_list(args: argparse.Namespace) -> int:
    extra = [c for c in args.columns.split(",") if c]
    extra += [o.lstrip("+-") for o in args.order if o.lstrip("+-") not in extra and "." in o]
    runs = _api(args).runs(
        args.project, _filter(args.filter), args.order, per_page=min(max(args.limit, 1), 1000)
    )
    rows: list[dict[str, Any]] = []
    for run in runs:
        if len(rows) >= args.limit:
            break
        row = run.to_row()
        rows.append(
            {c: row.get(c) for c in [*BASE_COLUMNS, *extra]}
        )  # nested config keys are flattened with "."
    emit(rows, [*BASE_COLUMNS, *extra], args.format)
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    run = _api(args).run(args.run)
    data = {
        **{k: v for k, v in run.to_row().items() if not k.startswith(("config.", "summary."))},
        "config": run.config,
        "summary": {k: run.summary.stats(k) | {"value": run.summary.get(k)} for k in run.summary},
    }
    if args.format == "json":
        print(json.dumps(data, indent=2, default=str))
        return 0
    for key, value in data.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {json.dumps(v, default=str)}")
        else:
            print(f"{key}: {value}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    run = _api(args).run(args.run)
    keys = [k for k in args.keys.split(",") if k] or None
    if args.all:
        rows = list(run.scan_history(keys, min_step=args.min_step, max_step=args.max_step))
    else:
        rows = run.history(keys, args.samples, args.min_step, args.max_step, args.x_axis, pandas=False)
    columns = list(dict.fromkeys(c for row in rows for c in row))
    emit(rows, columns, args.format)
    return 0


def cmd_count(args: argparse.Namespace) -> int:
    print(len(_api(args).runs(args.project, _filter(args.filter))))
    return 0


def cmd_group(args: argparse.Namespace) -> int:
    groups = _api(args).group_runs(args.project, args.by, args.metric, _filter(args.filter))
    emit(groups, ["value", "runs", "with_metric", "mean", "min", "max"], args.format)
    return 0


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> None:
    if fmt == "json":
        json.dump(list(rows), sys.stdout, default=str, allow_nan=True)
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(c)) for c in columns])
        return
    table = [[_text(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
