"""The iam CLI against a keys-mode server: login stores a verified key (0600), then teams, service
accounts, keys, projects and the audit log (JSON lines) work as documented in docs/guides/teams-keys-audit.md."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from strata.cli.main import main

from tests.fixtures.iam import KeysServer


@pytest.fixture
def cli(keys_server: KeysServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run `strata ...` in-process with its own config folder; returns (exit code, stdout)."""
    monkeypatch.setenv("STRATA_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("STRATA_ADDR", keys_server.addr)
    monkeypatch.delenv("STRATA_API_KEY", raising=False)

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(argv))
        return code, capsys.readouterr().out

    return run


def test_login_verifies_and_stores_the_key_with_mode_0600(
    keys_server: KeysServer, cli, tmp_path: Path
) -> None:
    key_file = keys_server.thread.settings.data_dir / "admin-api-key"
    bad = tmp_path / "bad.key"
    bad.write_text("strata_" + "a" * 12 + "_" + "A" * 43)
    assert cli("login", "--key-file", str(bad))[0] == 1  # refused by the server: nothing stored
    assert not (tmp_path / "config" / "credentials.json").exists()
    assert cli("login", "--key-file", str(key_file))[0] == 0
    stored = tmp_path / "config" / "credentials.json"
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert json.loads(stored.read_text())[keys_server.addr]["api_key"] == keys_server.admin_key
    code, out = cli("whoami")
    assert code == 0 and out.startswith("admin (user, server admin)")


def test_team_service_account_key_project_and_audit_commands(
    keys_server: KeysServer, cli, tmp_path: Path
) -> None:
    cli("login", "--key-file", str(keys_server.thread.settings.data_dir / "admin-api-key"))
    assert cli("user", "create", "carol")[0] == 0
    assert cli("team", "create", "vision-team")[0] == 0
    assert cli("team", "add", "vision-team", "carol", "--role", "viewer")[0] == 0
    assert cli("team", "role", "vision-team", "carol", "member")[0] == 0
    assert cli("team", "ls", "vision-team")[1].split() == ["admin", "admin", "carol", "member"]
    assert (
        cli("project", "create", "vision-team/cls", "--ttl", "30d", "--protected-aliases", "production")[0]
        == 0
    )
    code, out = cli("project", "update", "vision-team/cls", "--visibility", "public")
    assert code == 0 and "public" in out and "production" in out
    ci_key = tmp_path / "ci.key"
    assert cli("service-account", "create", "vision-team", "ci", "--project", "vision-team/cls",
               "--key", "--output", str(ci_key))[0] == 0  # fmt: skip
    assert stat.S_IMODE(os.stat(ci_key).st_mode) == 0o600
    assert "ci" in cli("service-account", "ls", "vision-team")[1]
    code, out = cli("key", "create", "--owner", "carol", "--description", "laptop", "--expires-in", "90d")
    carol_key = out.strip()
    assert code == 0 and carol_key.startswith("strata_")
    listed = cli("key", "ls", "--owner", "carol")[1]
    assert "laptop" in listed and carol_key not in listed
    assert cli("key", "revoke", carol_key[7:19])[0] == 0
    assert "revoked" in cli("key", "ls", "--owner", "carol", "--all")[1]
    assert cli("team", "remove", "vision-team", "carol")[0] == 0
    code, out = cli("audit", "--entity", "vision-team", "--jsonl")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [e["id"] for e in events] == sorted(e["id"] for e in events)
    actions = [e["action"] for e in events]
    for action in ("team.create", "team_member.add", "team_member.update", "project.create", "project.update",
                   "service_account.create", "api_key.create", "team_member.remove"):  # fmt: skip
        assert action in actions
    update = next(e for e in events if e["action"] == "team_member.update")
    assert (update["actor"], update["before"], update["after"]) == (
        "admin",
        {"role": "viewer"},
        {"role": "member"},
    )
    code, out = cli("audit", "--actor", "admin", "--action", "api_key.revoke", "--since", "1h")
    assert code == 0 and len(out.splitlines()) == 1 and "api_key.revoke" in out
