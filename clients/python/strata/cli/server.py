"""`strata server`: start the embedded stack (all services, one process), the same as `make run`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "server",
        help="start all Strata services in one process (embedded PostgreSQL + blob folder by default)",
        description="Start ingest, registry, lineage, query and iam on one port. Uses an embedded "
        "PostgreSQL under --data-dir unless STRATA_PG_DSN is set, and a local blob folder unless "
        "STRATA_S3_ENDPOINT is set. Stops cleanly on Ctrl-C / SIGTERM.",
    )
    p.add_argument("--data-dir", help="data folder (default $STRATA_DATA_DIR or ./.strata)")
    p.add_argument(
        "--log-format", choices=["json", "console"], help="log format (default $STRATA_LOG_FORMAT or json)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from strata_server.__main__ import main as server_main
    except ImportError:
        print(
            "the server is not installed here: pip install 'strata-ml-server' (or run `make run` in the repo)"
        )
        return 1
    argv: list[str] = []
    if args.addr:
        argv += ["--addr", args.addr]
    if args.data_dir:
        argv += ["--data-dir", args.data_dir]
    if args.log_format:
        argv += ["--log-format", args.log_format]
    server_main(argv)
    return 0
