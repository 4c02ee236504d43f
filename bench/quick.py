"""The command line every benchmark takes: `--quick`, a short smoke run with smaller sizes."""

from __future__ import annotations

import argparse


def quick(argv: list[str], name: str, help: str | None = None) -> bool:
    """Whether `python -m bench <name>` was given --quick (`help` describes the quick run)."""
    parser = argparse.ArgumentParser(prog=f"bench {name}")
    parser.add_argument("--quick", action="store_true", help=help)
    return bool(parser.parse_args(argv).quick)
