"""Packaging: the server's package list is complete, and the client package stands alone."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]


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


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: p for a in subparsers for name, p in a.choices.items()}


def test_cli_help_lists_every_command() -> None:
    from strata.cli.main import build_parser

    parser = build_parser()
    text = parser.format_help()
    commands = _commands(parser)
    assert commands, "no commands registered"
    for name in commands:
        assert name in text, f"`strata --help` does not name `{name}`"


def test_each_cli_command_help_has_a_description_and_names_its_subcommands_and_options() -> None:
    """`strata <command> --help` (and each subcommand's) opens with a sentence saying what it does and
    lists every subcommand and option the command accepts."""
    from strata.cli.main import build_parser

    pending = [(f"strata {name}", p) for name, p in _commands(build_parser()).items()]
    while pending:
        path, command = pending.pop()
        text = command.format_help()
        description = (command.description or "").strip()
        assert len(description.split()) >= 2, f"`{path} --help` has no description sentence"
        assert " ".join(description.split()[:2]) in " ".join(text.split()), (
            f"`{path} --help` hides its description"
        )
        for action in command._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings:
                assert option in text, f"`{path} --help` does not name {option}"
        for name, sub in _commands(command).items():
            assert name in text, f"`{path} --help` does not name its subcommand {name}"
            pending.append((f"{path} {name}", sub))


def test_the_configuration_page_matches_the_settings() -> None:
    """docs/configuration.md holds the table generated from SETTINGS_DOC (`python scripts/gen_docs.py`)."""
    from strata_server.common.config import markdown_table

    assert markdown_table() in (ROOT / "docs" / "configuration.md").read_text()


def test_the_client_builds_as_a_wheel_of_its_own(tmp_path: Path) -> None:
    """`pip install ./clients/python` installs only the client: its wheel holds the strata package
    (generated stubs, SDK, CLI) and none of the server, and declares what it needs to run."""
    import zipfile

    client = tmp_path / "src"  # a copy: building in place would leave build/ in the working tree
    shutil.copytree(ROOT / "clients" / "python", client, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path)]
    if importlib.util.find_spec("setuptools") is not None:
        pip.append("--no-build-isolation")  # build with the installed setuptools: no download
    subprocess.run([*pip, str(client)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("strata_ml_client-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"strata"}
    for module in (
        "strata/client.py",
        "strata/cli/main.py",
        "strata/sdk/run.py",
        "strata/registry/v1/registry_service_pb2.py",
    ):
        assert module in names
    requires = {
        re.split(r"[\s<>=!~;\[,(]", line.split(":", 1)[1].strip(), maxsplit=1)[0]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    assert {"grpcio", "protobuf", "googleapis-common-protos"} <= requires
    assert "strata = strata.cli.main:main" in entry_points
