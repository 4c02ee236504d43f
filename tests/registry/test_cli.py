"""`strata artifact|alias|gc|sidecar` against a real server, and the sidecar following an alias."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from strata.cli.main import main
from strata.registry.v1 import registry_service_pb2 as pb
from strata.sdk.sidecar import Sidecar

from tests.fixtures.wait import poll_until
from tests.registry.helpers import cli_env


@pytest.fixture(scope="module", autouse=True)
def env(server):  # type: ignore[no-untyped-def]
    yield from cli_env(server, "ops")


def cli(capsys, *argv: str) -> str:  # type: ignore[no-untyped-def]
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_put_ls_get_download_alias_history_revert_ttl_gc(server, tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    for i in range(3):
        (tmp_path / "model" / "weights.bin").write_bytes(f"weights {i}".encode())
        out = cli(
            capsys,
            "artifact",
            "put",
            "model",
            "--name",
            "ops/deploy/bert",
            "--type",
            "model",
            "--alias",
            "staging",
        )
        assert out.strip() == f"ops/deploy/bert:v{i}"
    assert "bert" in cli(capsys, "artifact", "ls", "ops/deploy")
    assert "v2" in cli(capsys, "artifact", "ls", "ops/deploy/bert")
    assert '"version": "2"' in cli(capsys, "artifact", "get", "ops/deploy/bert:staging", "--json")
    cli(capsys, "alias", "set", "ops/deploy/bert:v1", "production", "--reason", "f1 0.91")
    cli(capsys, "alias", "set", "ops/deploy/bert:v2", "production")
    history = cli(capsys, "alias", "history", "ops/deploy/bert:production")
    assert history.index("v1 -> v2") < history.index("- -> v1") and "f1 0.91" in history
    assert "v2 -> v1" in cli(capsys, "alias", "revert", "ops/deploy/bert:production", "--reason", "v2 broke")
    root = cli(capsys, "artifact", "download", "ops/deploy/bert:production", "--root", "out").strip()
    assert (Path(root) / "weights.bin").read_bytes() == b"weights 1"
    assert "ttl 7d" in cli(capsys, "artifact", "ttl", "ops/deploy/bert:v0", "7d")
    assert "ttl none" in cli(capsys, "artifact", "ttl", "ops/deploy/bert:v0", "none")
    assert cli(capsys, "gc", "--dry-run").startswith("dry run:")
    assert "logical" in cli(capsys, "artifact", "usage", "ops/deploy")


def _log(server, tmp_path: Path, content: bytes, aliases: list[str]) -> int:  # type: ignore[no-untyped-def]
    from strata.sdk.artifact import Artifact

    local = tmp_path / "model.bin"
    local.write_bytes(content)
    art = Artifact("served", type="model")
    art.add_file(local)
    art.aliases = aliases
    art.save(project="serving", entity="ops")
    return int(art.version[1:])


def test_sidecar_switches_the_current_symlink_when_the_alias_moves(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    v0 = _log(server, tmp_path, b"model zero", ["production"])
    v1 = _log(server, tmp_path, b"model one", [])
    models = tmp_path / "models"
    stop = threading.Event()
    with server.client() as client:
        sidecar = Sidecar(
            client, "ops/serving/served:production", models, on_change=f"touch {tmp_path}/changed"
        )
        t = threading.Thread(target=sidecar.run, kwargs={"stop": stop}, daemon=True)
        t.start()

        def current_is(content: bytes) -> bool:
            target = models / "current" / "model.bin"
            return poll_until(
                lambda: target.exists() and target.read_bytes() == content,
                timeout=60,
                what=f"the sidecar to serve {content!r}",
            )

        assert current_is(b"model zero") and os.readlink(models / "current") == f"v{v0}"
        client.registry.SetAlias(
            pb.SetAliasRequest(
                version=f"entities/ops/projects/serving/artifacts/served/versions/v{v1}", alias="production"
            )
        )
        assert current_is(b"model one") and os.readlink(models / "current") == f"v{v1}"
        assert sorted(p.name for p in models.iterdir() if not p.name.startswith(".")) == [
            "current",
            f"v{v0}",
            f"v{v1}",
        ]
        stop.set()
        t.join(timeout=30)
    assert sidecar.switches == 2 and (tmp_path / "changed").exists()


def test_sidecar_once_downloads_the_holder_and_exits(server, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _log(server, tmp_path, b"pinned", ["canary"])
    cli(capsys, "sidecar", "--artifact", "ops/serving/served:canary", "--dir", str(tmp_path / "m"), "--once")
    assert (tmp_path / "m" / "current" / "model.bin").read_bytes() == b"pinned"
