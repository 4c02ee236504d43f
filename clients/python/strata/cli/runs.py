"""`strata sync`: upload run spools (offline runs, or what a crashed process left behind)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strata import _settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sync",
        help="upload offline runs and spools left by crashed processes",
        description="Upload run spools to the server: runs logged with STRATA_MODE=offline, and batches "
        "a crashed training process had not delivered. Idempotent: the server skips batches it already "
        "committed, so syncing twice stores nothing twice. Spools held by a running process are skipped.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help=f"spool directories, or folders holding them (default: {_settings.spool_dir()})",
    )
    p.add_argument("--clean", action="store_true", help="delete each spool once it is fully delivered")
    p.add_argument(
        "--no-finish", action="store_true", help="deliver metrics and updates but do not finish the runs"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from strata.client import Client
    from strata.sdk._sync import sync_paths

    paths = args.paths or [_settings.spool_dir()]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"error: no such path: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    with Client(getattr(args, "addr", None)) as client:
        results = sync_paths(
            client, paths, finish=not args.no_finish, clean=args.clean, warn=lambda m: print(f"warning: {m}")
        )
    failed = 0
    for r in results:
        if r.skipped:
            print(f"skipped {r.directory}: {r.skipped}")
            continue
        state = "finished" if r.finished else ("complete" if r.complete else "INCOMPLETE")
        print(
            f"synced {r.run} from {r.directory}: {r.sent_batches} batches sent, {r.media} rich values added, {r.run_points} points in the run, {state}"
        )
        for version in r.artifacts:
            print(f"  artifact {version}")
        failed += not r.complete
    if not results:
        print("nothing to sync")
    return 1 if failed else 0
