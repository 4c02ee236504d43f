"""One address over separate services: the plain SDK through the nginx router, replica failover,
WatchAlias across registry replicas, the spread of one client's calls over ingest replicas, and the web
console process in front of the router."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from pathlib import Path

import asyncpg
import grpc
import httpx
import pytest
import strata
from strata.client import Client
from strata.errors import StrataError
from strata.ingest.v1 import ingest_service_pb2 as ipb
from strata.registry.v1 import registry_service_pb2 as rpb
from strata.sdk.watch import watch_alias

from tests.fixtures.cluster import Cluster, Replica
from tests.fixtures.iam import KeysServer
from tests.fixtures.l4 import L4Balancer
from tests.fixtures.wait import poll_until
from tests.platform import test_workflow_e2e as workflow

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

POINTS = 1_000_000


class RouterKeys(KeysServer):
    """The principal helpers of the keys-mode fixture, acting through the router."""

    def __init__(self, cluster: Cluster) -> None:
        self.addr = cluster.router
        self.admin_key = cluster.admin_key


@pytest.fixture
def as_admin(cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    """The SDK's environment points at the router with the admin's key."""
    monkeypatch.setenv("STRATA_ADDR", cluster.router)
    monkeypatch.setenv("STRATA_API_KEY", cluster.admin_key)
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    return Client(cluster.router, api_key=cluster.admin_key)


def test_the_whole_workflow_through_one_router_address(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    workflow.test_a_team_workflow_from_dataset_to_production_end_to_end(
        RouterKeys(cluster), tmp_path, monkeypatch
    )

    def every_service_served() -> bool:  # nginx logs a call just after its last byte: poll briefly
        served = {line.split()[0].split("/")[1].split(".")[1] for line in cluster.router_log()}
        return {"ingest", "registry", "lineage", "query", "iam"} <= served

    poll_until(every_service_served, timeout=10, what="calls of every service in the router's log")


def test_per_service_addresses_reach_each_service_directly(
    cluster: Cluster, as_admin: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listens at the one address: every call, the SDK's streams too, takes its service's own."""
    monkeypatch.setenv("STRATA_ADDR", "127.0.0.1:9")
    for svc, group in cluster.replicas.items():
        monkeypatch.setenv(f"STRATA_{svc.upper()}_ADDR", group[-1].addr)
    with strata.init(project="direct", entity="admin") as run:
        for step in range(1000):
            run.log({"loss": 1.0 / (step + 1)})
        art = strata.Artifact("direct-model", type="model")
        with art.new_file("w.bin") as f:
            f.write("weights " * 100_000)  # an upload session, not a small-blob batch
        run.log_artifact(art)
    api = strata.Api()
    got = api.artifact("admin/direct/direct-model:latest").download(root=str(tmp_path / "dl"))
    assert (Path(got) / "w.bin").read_text() == "weights " * 100_000
    assert [len(r.history(keys=["loss"], samples=2000)) for r in api.runs("admin/direct")] == [1000]
    with Client() as client:
        assert client.channel_for("ingest") is not client.channel
        assert client.channel_for("/strata.ingest.v1.IngestService/GetRun") is client.channel_for("ingest")


def _moves_through_each_replica(cluster: Cluster, artifact: str, versions: list[str]) -> None:
    """Point `production` at each version, each move through another registry replica directly."""
    for replica, version in zip(cluster.replicas["registry"], versions, strict=True):
        with Client(replica.addr, api_key=cluster.admin_key) as direct:
            direct.registry.SetAlias(rpb.SetAliasRequest(version=version, alias="production"))
        time.sleep(3)  # the watch lives through a connection-age GOAWAY between the moves


def test_a_watch_through_the_router_sees_moves_made_on_every_registry_replica(
    cluster: Cluster, as_admin: Client
) -> None:
    versions = []
    with strata.init(project="watch", entity="admin") as run:
        for i in range(3):
            art = strata.Artifact("model", type="model")
            with art.new_file("w.bin") as f:
                f.write(f"weights {i}")
            versions.append(run.log_artifact(art).resource_name)
    artifact = versions[0].rsplit("/versions/", 1)[0]
    as_admin.registry.SetAlias(rpb.SetAliasRequest(version=versions[0], alias="production"))
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def follow() -> None:
        for msg in watch_alias(as_admin, artifact, "production", stop=stop, stream_timeout=60):
            seen.append((msg.event.revision, msg.version.name))

    watcher = threading.Thread(target=follow, daemon=True)
    watcher.start()
    poll_until(lambda: seen, timeout=30, what="the current holder")
    _moves_through_each_replica(cluster, artifact, versions[1:])
    poll_until(lambda: len(seen) >= 3, timeout=30, what="both moves")
    stop.set()
    watcher.join(timeout=10)
    assert [name for _, name in seen] == versions
    assert [rev for rev, _ in seen] == sorted({rev for rev, _ in seen})  # in order, none twice


def _get_run_calls(replica: Replica) -> int:
    """Calls of GetRun this replica answered (each answers NOT_FOUND, which it logs at info)."""
    return sum(1 for line in replica.log_text().splitlines() if "rpc_error" in line and "/GetRun" in line)


def _calls_for(client: Client, seconds: float) -> int:
    """Unary calls for `seconds`; each must end NOT_FOUND: a GOAWAY never surfaces as an error."""
    missing = ipb.GetRunRequest(name="entities/admin/projects/spread/runs/missing")
    calls, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        with pytest.raises(StrataError) as err:
            client.ingest.GetRun(missing, timeout=10)
        assert err.value.code == grpc.StatusCode.NOT_FOUND
        calls += 1
        time.sleep(0.01)
    return calls


def _spread(cluster: Cluster, client: Client, seconds: float) -> Counter[str]:
    before = {r.addr: _get_run_calls(r) for r in cluster.replicas["ingest"]}
    sent = _calls_for(client, seconds)
    counts = Counter({r.addr: _get_run_calls(r) - before[r.addr] for r in cluster.replicas["ingest"]})
    assert sum(counts.values()) == sent
    return counts


def test_connection_age_spreads_one_clients_calls_over_ingest_replicas(
    cluster: Cluster, as_admin: Client
) -> None:
    """Behind a per-connection (L4) balancer, as a Kubernetes Service is, one client's calls reach
    every replica only because connections age out; through the router they spread per call."""
    l4 = L4Balancer([r.addr for r in cluster.replicas["ingest"]]).start()
    try:
        with Client(l4.addr, api_key=cluster.admin_key) as client:
            behind_l4 = _spread(cluster, client, 8.0)
    finally:
        l4.stop()
    via_router = _spread(cluster, as_admin, 4.0)
    for label, counts in (("8 s behind an L4 balancer", behind_l4), ("4 s through the router", via_router)):
        total = sum(counts.values())
        shares = ", ".join(f"{addr}: {n} ({n / total:.0%})" for addr, n in sorted(counts.items()))
        print(f"ingest spread of {total} calls in {label}: {shares}")
    print(f"connections the L4 balancer made per replica: {dict(l4.connections)}")
    assert len(l4.connections) == 2 and min(behind_l4.values()) > 0
    assert min(via_router.values()) > 0


def _open_streams(replica: Replica, since: int) -> set[str]:
    """Metric streams open on `replica` (request ids), from its log after offset `since`."""
    opened, closed = set(), set()
    for line in replica.log_text()[since:].splitlines():
        if '"metric_stream_' in line:
            event = json.loads(line)
            (opened if event["event"] == "metric_stream_opened" else closed).add(event["request_id"])
    return opened - closed


def _stream_holder(replicas: list[Replica], since: dict[str, int]) -> Replica | None:
    return next((r for r in replicas if _open_streams(r, since[r.addr])), None)


async def _stored(dsn: str, run_id: str) -> tuple[int, int, float, int]:
    """The run's point count, and key x's count, sum and points in chunks (0s before its first batch)."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            """SELECT r.point_count, k.count, k.sum,
                      (SELECT coalesce(sum(c.n), 0) FROM metric_chunks c
                        WHERE c.run_id = r.id AND c.key_id = k.key_id) AS chunked
                 FROM runs r JOIN metric_keys k ON k.run_id = r.id
                WHERE r.run_id = $1 AND k.key = 'x'""",
            run_id,
        )
        return (row["point_count"], row["count"], row["sum"], row["chunked"]) if row else (0, 0, 0.0, 0)
    finally:
        await conn.close()


def test_a_stream_survives_sigkill_of_its_ingest_replica(cluster: Cluster, as_admin: Client) -> None:
    """Kill the replica a 1 M-point stream runs on while it runs: the stream resumes through the other
    one, and every point is stored exactly once."""
    ingest, logged_before = cluster.replicas["ingest"], len(cluster.router_log())
    since = {r.addr: len(r.log_text()) for r in ingest}
    killed: list[tuple[Replica, int]] = []  # (replica, points committed when it was killed)
    started, done_killing, run_id = threading.Event(), threading.Event(), []

    def kill_the_streams_replica() -> None:
        try:
            started.wait(60)
            victim = poll_until(lambda: _stream_holder(ingest, since), timeout=30, what="an open stream")
            # Kill only once the stream has committed something, so the kill lands mid-stream however
            # fast the machine is (the logging loop waits for the kill before its second half).
            poll_until(
                lambda: asyncio.run(_stored(cluster.dsn, run_id[0]))[1] > 0, timeout=30, what="a commit"
            )
            victim.kill()
            killed.append((victim, asyncio.run(_stored(cluster.dsn, run_id[0]))[1]))
        finally:
            done_killing.set()

    killer = threading.Thread(target=kill_the_streams_replica, daemon=True)
    killer.start()
    begun = time.monotonic()
    try:
        with strata.init(project="failover", entity="admin") as run:
            run_id.append(run.id)
            for i in range(POINTS):
                run.log({"x": float(i)})
                if i == 100_000:
                    started.set()
                elif i == POINTS // 2:
                    done_killing.wait(60)
            streamer = run._streamer
        elapsed = time.monotonic() - begun
        killer.join(timeout=30)
        assert killed, "no replica was killed"
        victim, committed_then = killed[0]
        point_count, count, total, chunked = asyncio.run(_stored(cluster.dsn, run_id[0]))
        sessions = [line for line in cluster.router_log()[logged_before:] if "/StreamMetrics" in line]
        print(
            f"{POINTS} points through the router in {elapsed:.1f}s; replica {victim.addr} SIGKILLed with "
            f"{committed_then} points committed; {streamer.reconnects if streamer else '?'} stream "
            f"reconnects; stored {chunked} points. Stream sessions (path, status, upstream):",
            *sessions,
            sep="\n  ",
        )
        assert 0 < committed_then < POINTS  # the kill came in the middle of the stream
        assert any(victim.addr in line for line in sessions), "the stream never ran on the killed replica"
        assert count == chunked == POINTS and point_count >= POINTS
        assert total == POINTS * (POINTS - 1) / 2  # every value once: nothing lost, nothing twice
    finally:
        for replica, _ in killed:
            replica.spawn()
            replica.wait()


def test_the_console_process_signs_in_and_lists_runs_through_the_router(
    cluster: Cluster, as_admin: Client
) -> None:
    ids = []
    for i in range(3):
        with strata.init(project="console-runs", entity="admin", job_type="train", config={"i": i}) as run:
            run.log({"loss": 1.0 / (i + 1)})
            ids.append(run.id)
    url = cluster.console.url
    with httpx.Client(base_url=url, timeout=30, follow_redirects=False) as http:
        assert http.get("/p/admin/console-runs").status_code == 303  # no session yet: to sign-in
        r = http.post("/api/v1/session", json={"api_key": cluster.admin_key}, headers={"Origin": url})
        assert r.status_code == 200, r.text
        assert r.json()["csrf"] and http.cookies  # the session id lives in a cookie, the key on the server
        http.headers.update({"X-CSRF-Token": r.json()["csrf"], "Origin": url})
        assert http.get("/p/admin/console-runs").status_code == 200
        projects = http.get("/api/v1/projects").json()["projects"]
        assert ("admin", "console-runs") in {(p["entity"], p["project"]) for p in projects}
        runs = http.get("/api/v1/projects/admin/console-runs/runs").json()["runs"]
        assert sorted(x["id"] for x in runs) == sorted(ids)
        count = http.get("/api/v1/projects/admin/console-runs/runs-count", params={"estimate": "true"})
        assert count.json() == {"count": 3, "estimated": False}  # a small project is counted whole
        assert http.delete("/api/v1/session").status_code == 200
        assert http.get("/api/v1/projects/admin/console-runs/runs").status_code == 401
