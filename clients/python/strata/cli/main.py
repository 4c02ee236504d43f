"""`strata` entry point: builds the argument parser from the command modules and dispatches."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from strata import __version__
from strata.errors import StrataError

# Command modules, each exposing register(subparsers). A module that is missing is skipped.
COMMAND_MODULES = (
    "strata.cli.server",
    "strata.cli.runs",
    "strata.cli.files",
    "strata.cli.artifact",
    "strata.cli.lineage",
    "strata.cli.query",
    "strata.cli.iam",
    "strata.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="strata",
        description="Strata: run tracking and artifact version control for ML teams.",
        epilog="Server address: --addr or $STRATA_ADDR (default 127.0.0.1:50051). "
        "API key: $STRATA_API_KEY or `strata login`.",
    )
    parser.add_argument("--version", action="version", version=f"strata {__version__}")
    parser.add_argument("--addr", help="server address host:port (default $STRATA_ADDR or 127.0.0.1:50051)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        module.register(sub)
    for command in sub.choices.values():  # `strata server --addr X` works as well as `strata --addr X server`
        _add_addr(command)
    return parser


def _add_addr(parser: argparse.ArgumentParser) -> None:
    if any("--addr" in a.option_strings for a in parser._actions):
        return
    parser.add_argument("--addr", default=argparse.SUPPRESS, help="server address host:port")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for nested in action.choices.values():
                _add_addr(nested)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except StrataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
