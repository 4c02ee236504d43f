"""Packaging: the server's package list is complete, and the client package stands alone."""

from __future__ import annotations

import importlib.util
import shutil
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
    [wheel] = tmp_path.glob("strata_client-*.whl")
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
        line.split(":", 1)[1].strip().split(">")[0].split(";")[0].strip()
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    assert {"grpcio", "protobuf", "googleapis-common-protos"} <= requires
    assert "strata = strata.cli.main:main" in entry_points
