"""The Python client installs beside the ML stack: its generated code carries no protobuf runtime-version
check, so it runs under the protobuf and grpcio that tritonclient, TensorFlow and apache-beam pin, and at
the lower bounds it declares (protobuf 4.25, grpcio 1.62). Each case is a fresh venv holding the client's
wheel and the other package, running the SDK against the test server."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.fixtures.servers import ServerThread
from tests.fixtures.wheels import install

# Runs in the venv under test: the ML package and the client in one process, a logged run read back.
USE = r"""
import json, sys
import google.protobuf, grpc
for extra in sys.argv[1:]:
    __import__(extra)
import strata
from strata.client import Client
from strata.iam.v1 import iam_service_pb2 as iam

with strata.init(project="ml-stack", entity="ml-stack", config={"lr": 0.1}) as run:
    for step in range(3):
        run.log({"loss": 1.0 / (step + 1)})
rows = list(strata.Api().run(run.path).scan_history(keys=["loss"]))
with Client() as c:
    admin = c.iam.GetPrincipal(iam.GetPrincipalRequest()).server_admin
print(json.dumps({
    "protobuf": google.protobuf.__version__,
    "grpcio": grpc.__version__,
    "loss": [r["loss"] for r in rows],
    "admin": admin,
}))
"""

CASES = {
    # tritonclient[grpc] pins protobuf >=6.30,<7 and grpcio >=1.81.1: the lightest of the three to install
    "tritonclient": (["strata-ml-client", "tritonclient[grpc]"], ["tritonclient.grpc"], (6, 7)),
    # the lower bounds of the client's own ranges
    "lowest": (
        ["strata-ml-client", "protobuf==4.25.*", "grpcio==1.62.*", "grpcio-status==1.62.*"],
        [],
        (4, 5),
    ),
}


def major(version: str) -> int:
    return int(version.split(".")[0])


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_client_runs_beside_an_ml_package(case: str, server: ServerThread, tmp_path) -> None:
    requirements, imports, (low, high) = CASES[case]
    venv = install(f"client-{case}", requirements)
    result = subprocess.run(
        [str(venv.python), "-W", "error::UserWarning", "-c", USE, *imports],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "STRATA_ADDR": server.addr},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert low <= major(out["protobuf"]) < high, out
    assert out["loss"] == [1.0, 0.5, 1 / 3] and out["admin"] is True
