"""A Node.js client generated at run time from proto/ (@grpc/proto-loader) calls the running server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest

from tests.fixtures.servers import ServerThread

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".tools" / "node_modules"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_client_built_from_the_proto_files_calls_the_server(server: ServerThread) -> None:
    assert (NODE_MODULES / "@grpc" / "grpc-js").is_dir(), "run `make tools` (make test does it)"
    result = subprocess.run(
        [
            "node",
            str(ROOT / "tests" / "platform" / "polyglot" / "client.js"),
            server.addr,
            str(ROOT / "proto"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["principal"]["response"]["actor"]["kind"] == "ACTOR_KIND_LOCAL"
    assert out["principal"]["response"]["server_admin"] is True
    # errors reach other languages as canonical codes
    assert out["badRun"]["error"]["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    # a real round trip: a run created from Node.js is read back from Node.js (and from Python)
    created = out["created"]["response"]["run"]
    assert created["name"].startswith("entities/polyglot/projects/node/runs/")
    assert created["state"] == "RUN_STATE_RUNNING" and created["job_type"] == "eval"
    fetched = out["fetched"]["response"]["run"]
    assert fetched["run_id"] == created["run_id"] and fetched["tags"] == ["node"]
    assert json.loads(fetched["config_json"]) == {"lr": 0.001, "layers": [64, 64]}
    from strata.ingest.v1 import ingest_service_pb2

    seen = server.client().ingest.GetRun(ingest_service_pb2.GetRunRequest(name=created["name"])).run
    assert seen.author.name == created["author"]["name"] and seen.job_type == "eval"
