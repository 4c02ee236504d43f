"""Packaging: the server's package list is complete, and the client package stands alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_server_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        "strata_server" + "".join("." + p for p in init.parent.relative_to(ROOT / "services").parts)
        for init in (ROOT / "services").rglob("__init__.py")
    }
    assert found - listed == set()


def test_the_client_package_imports_without_the_server() -> None:
    code = (
        "import sys, strata, strata.client, strata.errors, strata.cli.main;"
        "assert not any(m.startswith('strata_server') for m in sys.modules), 'client imported the server'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_cli_help_lists_commands_and_each_command_has_help() -> None:
    from strata.cli.main import build_parser

    parser = build_parser()
    text = parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sub.choices, "no commands registered"
    for name, command in sub.choices.items():
        assert name in text
        assert command.description or command.format_help()


def test_readme_configuration_table_matches_the_settings() -> None:
    from strata_server.common.config import markdown_table

    assert markdown_table() in (ROOT / "README.md").read_text()
