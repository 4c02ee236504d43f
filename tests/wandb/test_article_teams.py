"""The article's team and service-account shell blocks, in Strata's CLI against a keys-mode server:
`wandb team create` / `wandb team add` become `strata team create` / `strata team add`, and the
service account's key in $STRATA_API_KEY (W&B: $WANDB_API_KEY) makes `python train.py` log as the bot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import strata

from tests.fixtures.iam import KeysServer


def _cli(*args: str, key: str, addr: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STRATA_API_KEY": key, "STRATA_ADDR": addr}
    return subprocess.run(
        [str(Path(sys.executable).parent / "strata"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


TRAIN_PY = """
import strata as wandb
run = wandb.init(project="pipeline", entity="ml-research", job_type="train")
run.log({"loss": 0.5})
run.finish()
print(run.path)
"""


def test_team_and_service_account_blocks_as_strata_cli(keys_server: KeysServer, tmp_path: Path) -> None:
    """`wandb team create ml-research` / `wandb team add ml-research user@example.com` become
    `strata team create` / `strata team add` (Strata adds members by user name), and the service
    account's key in $STRATA_API_KEY (W&B: $WANDB_API_KEY) makes `python train.py` log as the bot."""
    admin = keys_server.user("lead")
    keys_server.user("user")
    assert _cli("team", "create", "ml-research", key=admin, addr=keys_server.addr).returncode == 0
    added = _cli("team", "add", "ml-research", "user", key=admin, addr=keys_server.addr)
    assert added.returncode == 0, added.stderr
    bot = keys_server.service_account("ml-research", "ci-dev", as_key=admin)
    (tmp_path / "train.py").write_text(TRAIN_PY)
    env = {
        **os.environ,
        "STRATA_API_KEY": bot,
        "STRATA_ADDR": keys_server.addr,
        "STRATA_SPOOL_DIR": str(tmp_path),
    }
    env.pop("STRATA_ENTITY", None)
    done = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip().splitlines()[-1]
    with keys_server.client(admin) as c:
        members = c.iam.ListTeamMembers(_members_request("ml-research"))
        assert {m.user for m in members.members} >= {"entities/lead", "entities/user"}
    found = strata.Api(keys_server.addr, admin).run(path)
    assert found.user == "ml-research/ci-dev" and found.state == "finished"


def _members_request(team: str) -> Any:
    from strata.iam.v1 import iam_service_pb2

    return iam_service_pb2.ListTeamMembersRequest(team=f"entities/{team}")
