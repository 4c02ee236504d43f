"""`strata server`: start the embedded stack (all services and the web console, one process), the same as
`make run`. `strata web`: the web console alone, in front of the services at --addr."""

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
    p.add_argument(
        "--web-addr", help="web console address, or off (default $STRATA_WEB_ADDR or 127.0.0.1:8080)"
    )
    p.set_defaults(func=run)
    w = sub.add_parser(
        "web",
        help="start the web console alone (in front of the services at --addr)",
        description="Serve the web console (HTTP) calling the Strata services at --addr / $STRATA_ADDR.",
    )
    w.add_argument("--web-addr", help="listen address (default $STRATA_WEB_ADDR or 127.0.0.1:8080)")
    w.set_defaults(func=run_web)


def run(args: argparse.Namespace) -> int:
    try:
        from strata_server.__main__ import main as server_main
    except ImportError:
        print(
            "the server is not installed here: pip install 'strata-ml-server' (or run `make run` in the repo)"
        )
        return 1
    server_main(_passed_on(args, ("addr", "data_dir", "log_format", "web_addr")))
    return 0


def run_web(args: argparse.Namespace) -> int:
    try:
        from strata_server.web.__main__ import main as web_main
    except ImportError:
        print("the server is not installed here: pip install strata-server (or run `make run` in the repo)")
        return 1
    web_main(_passed_on(args, ("addr", "web_addr")))
    return 0


def _passed_on(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    """The options among `names` that were given, as `--name value` arguments for the server's main."""
    argv: list[str] = []
    for name in names:
        value = getattr(args, name)
        if value:
            argv += [f"--{name.replace('_', '-')}", value]
    return argv
