"""The packaged server starts: both wheels, built and installed (not editable) into a fresh venv, run as
a non-root user from a read-only working folder with the data folder set by environment. The all-in-one
server and each service alone answer health and serve a small workflow through the installed client."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from tests.fixtures.processes import SERVICES, free_port, wait_serving
from tests.fixtures.wheels import ROOT, Installed, install, world_readable_tmp

pytestmark = pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is missing")

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
VERSION = (ROOT / "clients" / "python" / "strata" / "VERSION").read_text().strip()

# Runs in the installed venv: the SDK's whole small loop, then reads everything back.
WORKFLOW = r"""
import json, pathlib, sys
import strata

work = pathlib.Path(sys.argv[1])
(work / "model").mkdir()
(work / "model" / "weights.bin").write_bytes(bytes(range(256)) * 64)
with strata.init(project="wheel", entity="admin", job_type="train", config={"lr": 0.1}) as run:
    for step in range(5):
        run.log({"loss": 1.0 / (step + 1)})
    model = strata.Artifact("model", type="model")
    model.add_dir(str(work / "model"))
    run.log_artifact(model)
api = strata.Api()
got = pathlib.Path(api.artifact("admin/wheel/model:v0").download(root=str(work / "download")))
rows = list(api.run(run.path).scan_history(keys=["loss"]))
print(json.dumps({
    "version": strata.__version__,
    "module": strata.__file__,
    "weights": (got / "weights.bin").read_bytes() == (work / "model" / "weights.bin").read_bytes(),
    "loss": [r["loss"] for r in rows],
}))
"""

# Runs in the installed venv against one service alone: a call that reads or writes its tables.
ALONE = r"""
import json, sys
from strata.client import Client
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as ingest
from strata.registry.v1 import registry_service_pb2 as registry
from strata.lineage.v1 import lineage_service_pb2 as lineage
from strata.query.v1 import query_service_pb2 as query
from strata.iam.v1 import iam_service_pb2 as iam

service, addr, key = sys.argv[1:]
project = "entities/admin/projects/wheel"
with Client(addr, api_key=key) as c:
    try:
        if service == "ingest":
            run = c.ingest.CreateRun(ingest.CreateRunRequest(parent=project, job_type="train")).run
            out = c.ingest.GetRun(ingest.GetRunRequest(name=run.name)).run.run_id == run.run_id
        elif service == "iam":
            out = c.iam.GetPrincipal(iam.GetPrincipalRequest()).server_admin
        elif service == "registry":
            out = len(c.registry.ListArtifacts(registry.ListArtifactsRequest(parent=project)).artifacts)
        elif service == "query":
            out = len(c.query.SearchRuns(query.SearchRunsRequest(parent=project)).runs)
        else:
            node = project + "/artifacts/m/versions/v0"
            out = len(c.lineage.TraceUpstream(lineage.TraceUpstreamRequest(node=node)).graph.nodes)
    except StrataError as e:
        out = e.code.name
print(json.dumps({"result": out}))
"""
# What each service alone answers on a fresh database: ingest and iam create and read; the others look
# the project up and find none. A missing table would be INTERNAL instead.
EXPECTED = {
    "ingest": True,
    "iam": True,
    "registry": "NOT_FOUND",
    "query": "NOT_FOUND",
    "lineage": "NOT_FOUND",
}


@pytest.fixture(scope="module")
def server_venv() -> Installed:
    return install("server-venv", ["strata-ml-server[embedded]"])


@contextmanager
def serving_as_nobody(installed: Installed, module: str, data_dir: Path, log: Path) -> Iterator[str]:
    """`python -m module` as nobody, cwd a read-only folder, data folder from STRATA_DATA_DIR."""
    addr = f"127.0.0.1:{free_port()}"
    readonly = data_dir.parent / "cwd"
    readonly.mkdir(mode=0o555)
    nobody = pwd.getpwnam("nobody")
    os.chown(data_dir, nobody.pw_uid, nobody.pw_gid)
    env = {"PATH": "/usr/bin:/bin", "STRATA_DATA_DIR": str(data_dir), "STRATA_ADDR": addr}
    proc = subprocess.Popen(
        [*AS_NOBODY, str(installed.python), "-m", module],
        cwd=readonly,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
    )
    try:
        wait_serving(addr, proc, timeout=120)
        yield addr
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        assert code == 0, log.read_text()[-3000:]
    assert not any(readonly.iterdir()), "the server wrote into its working folder"


def run_client(installed: Installed, script: str, *args: str, addr: str, home: Path, key: str) -> dict:
    """`script` in the installed venv (as root, HOME a scratch folder) against the server at `addr`."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "STRATA_ADDR": addr, "STRATA_API_KEY": key}
    result = subprocess.run(
        [str(installed.python), "-c", script, *args], capture_output=True, text=True, timeout=180, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_wheels_hold_every_migration_and_the_markers_and_pgserver_is_an_extra(
    server_venv: Installed,
) -> None:
    [server] = server_venv.wheelhouse.glob(f"strata_ml_server-{VERSION}-*.whl")
    [client] = server_venv.wheelhouse.glob(f"strata_ml_client-{VERSION}-*.whl")
    with zipfile.ZipFile(server) as z:
        names = set(z.namelist())
        metadata = z.read(f"strata_ml_server-{VERSION}.dist-info/METADATA").decode()
    migrations = {
        "strata_server/" + str(p.relative_to(ROOT / "services"))
        for p in (ROOT / "services").glob("*/migrations/*.sql")
    }
    assert len(migrations) >= 5 and migrations <= names, migrations - names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any("strata-ml-client" in line for line in requires)
    pgserver = [line for line in requires if "pgserver" in line]
    assert pgserver and all('extra == "embedded"' in line for line in pgserver), pgserver
    with zipfile.ZipFile(client) as z:
        assert {"strata/py.typed", "strata/VERSION"} <= set(z.namelist())
        assert z.read("strata/VERSION").decode().strip() == VERSION


def test_the_installed_all_in_one_server_runs_the_workflow_as_nobody_from_a_read_only_folder(
    server_venv: Installed,
) -> None:
    with world_readable_tmp(server_venv, "all-") as tmp:
        (tmp / "data").mkdir()
        with serving_as_nobody(server_venv, "strata_server", tmp / "data", tmp / "server.log") as addr:
            health = grpc.insecure_channel(addr)
            from grpc_health.v1 import health_pb2_grpc

            stub = health_pb2_grpc.HealthStub(health)
            for full_name in SERVICES.values():
                status = stub.Check(health_pb2.HealthCheckRequest(service=full_name), timeout=5).status
                assert status == health_pb2.HealthCheckResponse.SERVING, full_name
            health.close()
            key = (tmp / "data" / "admin-api-key").read_text().strip()
            (tmp / "client").mkdir()
            out = run_client(
                server_venv, WORKFLOW, str(tmp / "client"), addr=addr, home=tmp / "client", key=key
            )
        assert out["version"] == VERSION
        assert out["module"].startswith(str(server_venv.venv)), "the installed client, not the source tree"
        assert out["weights"] is True
        assert out["loss"] == [1.0, 0.5, 1 / 3, 0.25, 0.2]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_installed_service_starts_alone_as_nobody_on_a_fresh_database(
    server_venv: Installed, service: str
) -> None:
    with world_readable_tmp(server_venv, f"{service}-") as tmp:
        (tmp / "data").mkdir()
        module = f"strata_server.{service}"
        with serving_as_nobody(server_venv, module, tmp / "data", tmp / "server.log") as addr:
            channel = grpc.insecure_channel(addr)
            from grpc_health.v1 import health_pb2_grpc

            check = health_pb2.HealthCheckRequest(service=SERVICES[service])
            status = health_pb2_grpc.HealthStub(channel).Check(check, timeout=5).status
            channel.close()
            assert status == health_pb2.HealthCheckResponse.SERVING
            key = (tmp / "data" / "admin-api-key").read_text().strip()
            (tmp / "home").mkdir()
            out = run_client(server_venv, ALONE, service, addr, key, addr=addr, home=tmp / "home", key=key)
        assert out["result"] == EXPECTED[service]


def test_without_a_dsn_or_pgserver_the_server_says_what_to_install(server_venv: Installed) -> None:
    """A production install leaves out the `[embedded]` extra; started without STRATA_PG_DSN it stops at
    once and names both ways out."""
    hide_pgserver = (
        "import sys; sys.modules['pgserver'] = None; from strata_server.__main__ import main; main()"
    )
    with world_readable_tmp(server_venv, "nodsn-") as tmp:
        result = subprocess.run(
            [str(server_venv.python), "-c", hide_pgserver],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp,
            env={"PATH": "/usr/bin:/bin", "STRATA_DATA_DIR": str(tmp), "STRATA_ADDR": "127.0.0.1:0"},
        )
    assert result.returncode != 0
    assert "STRATA_PG_DSN" in result.stderr and "strata-ml-server[embedded]" in result.stderr, result.stderr
