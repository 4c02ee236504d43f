"""Open streams lose their rights with their caller: revoking the key ends an open WatchAlias with
UNAUTHENTICATED, removing a member from the team ends their WatchAlias and StreamMetrics with
PERMISSION_DENIED, and nothing a cut StreamMetrics sent afterwards commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from strata.errors import Reason, StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata.ingest.v1 import ingest_service_pb2 as ingest
from strata.registry.v1 import registry_service_pb2 as reg
from strata_server.common.auth import apikeys

from tests.fixtures.files import make_version, sql
from tests.fixtures.iam import KeysServer, start_keys_server
from tests.fixtures.ingest import batch

TEAM, PROJECT = "lab", "models"
ART = f"entities/{TEAM}/projects/{PROJECT}/artifacts/net"
CUT_WITHIN = 15.0  # seconds: a cut is one sweep after the change commits


@pytest.fixture(scope="module")
def lab(keys_server: KeysServer) -> dict[str, str]:
    """A team with a private project, an artifact version holding `production`, and three members."""
    keys = {name: keys_server.user(name) for name in ("owner", "ann", "bob", "cid", "dan")}
    members = {name: iam_pb2.ROLE_MEMBER for name in ("ann", "bob", "cid", "dan")}
    keys_server.team(TEAM, admin=keys["owner"], members=members)
    keys_server.project(TEAM, PROJECT, as_key=keys["owner"])
    version = make_version(keys_server, TEAM, PROJECT, "net", [], version=0)
    with keys_server.client(keys["owner"]) as c:
        c.registry.SetAlias(reg.SetAliasRequest(version=version, alias="production"))
    return keys


class Watch:
    """WatchAlias in a thread: the messages received and the error that ended the stream."""

    def __init__(self, server: KeysServer, key: str) -> None:
        self.client = server.client(key)
        self.received: list[reg.WatchAliasResponse] = []
        self.error: StrataError | None = None
        self.first = threading.Event()
        self.ended = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            request = reg.WatchAliasRequest(artifact=ART, alias="production")
            for msg in self.client.registry.WatchAlias(request, timeout=60):
                self.received.append(msg)
                self.first.set()
        except StrataError as e:
            self.error = e
        finally:
            self.ended.set()
            self.client.close()


def revoke(server: KeysServer, key: str) -> None:
    with server.client() as admin:
        admin.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=f"apiKeys/{apikeys.parse(key)[0]}"))  # type: ignore[index]


def remove(server: KeysServer, owner_key: str, user: str) -> None:
    with server.client(owner_key) as c:
        c.iam.RemoveTeamMember(iam.RemoveTeamMemberRequest(team=f"entities/{TEAM}", user=f"entities/{user}"))


def test_revoking_a_key_ends_its_open_watch_unauthenticated(keys_server: KeysServer, lab) -> None:  # type: ignore[no-untyped-def]
    watch = Watch(keys_server, lab["ann"])
    assert watch.first.wait(20), "the watch never delivered the current holder"
    revoke(keys_server, lab["ann"])
    assert watch.ended.wait(CUT_WITHIN), "a revoked key's watch stayed open"
    assert watch.error is not None
    assert (watch.error.code, watch.error.reason) == (grpc.StatusCode.UNAUTHENTICATED, Reason.INVALID_API_KEY)
    assert len(watch.received) == 1


def test_removing_a_member_ends_their_open_watch_permission_denied(keys_server: KeysServer, lab) -> None:  # type: ignore[no-untyped-def]
    watch = Watch(keys_server, lab["bob"])
    other = Watch(keys_server, lab["owner"])  # an unaffected watcher of the same alias stays open
    assert watch.first.wait(20) and other.first.wait(20)
    remove(keys_server, lab["owner"], "bob")
    assert watch.ended.wait(CUT_WITHIN), "a removed member's watch stayed open"
    assert watch.error is not None
    assert (watch.error.code, watch.error.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        Reason.PERMISSION_DENIED,
    )
    assert not other.ended.is_set()
    # the next move reaches the owner only
    version = make_version(keys_server, TEAM, PROJECT, "net", [], version=1)
    with keys_server.client(lab["owner"]) as c:
        c.registry.SetAlias(reg.SetAliasRequest(version=version, alias="production"))
    deadline = time.monotonic() + 20
    while len(other.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.version.name for m in other.received] == [f"{ART}/versions/v0", version]
    assert len(watch.received) == 1


def test_a_revocation_in_another_process_cuts_the_stream_here(
    keys_server: KeysServer, lab, pg_dsn: str
) -> None:  # type: ignore[no-untyped-def]
    """Two replicas on one database: the key is revoked on one, the watch is open on the other,
    which learns of it only through LISTEN/NOTIFY."""
    data_dir = keys_server.thread.settings.data_dir  # the same pepper file
    replica = start_keys_server(data_dir, pg_dsn, auth_cache_seconds=120.0)  # no periodic re-check in time
    try:
        watch = Watch(replica, lab["dan"])
        assert watch.first.wait(20)
        revoke(keys_server, lab["dan"])
        assert watch.ended.wait(CUT_WITHIN), "the other replica's watch stayed open"
        assert watch.error is not None and watch.error.code == grpc.StatusCode.UNAUTHENTICATED
    finally:
        replica.thread.stop()


def stored_sequences(server: KeysServer, run: str) -> int:
    rows = sql(
        server,
        """SELECT coalesce(max(s.sequence), 0) AS n FROM metric_streams s JOIN runs r ON r.id = s.run_id
           WHERE r.run_id = $1""",
        run.rsplit("/", 1)[1],
    )
    return int(rows[0]["n"])


def test_removing_a_member_cuts_their_metric_stream_and_nothing_commits_after(
    keys_server: KeysServer,
    lab,  # type: ignore[no-untyped-def]
) -> None:
    with keys_server.client(lab["cid"]) as c:
        parent = f"entities/{TEAM}/projects/{PROJECT}"
        run = c.ingest.CreateRun(ingest.CreateRunRequest(parent=parent, run_id="cut")).run.name
    done = threading.Event()
    acked: list[int] = []

    def requests() -> Iterator[ingest.StreamMetricsRequest]:
        yield ingest.StreamMetricsRequest(open=ingest.StreamOpen(run=run, stream_id="s1"))
        seq = 0
        while not done.is_set() and seq < 2000:
            seq += 1
            yield ingest.StreamMetricsRequest(batch=batch(seq, {"loss": [(seq, 1.0)]}))
            time.sleep(0.02)

    error: list[StrataError] = []
    removed_at: list[float] = []

    def remove_member() -> None:
        remove(keys_server, lab["owner"], "cid")
        removed_at.append(time.monotonic())

    # the member is removed once a first batch is acknowledged, so the cut lands mid-stream however
    # fast or slow the machine is (a fixed delay may come before anything was committed)
    remover = threading.Thread(target=remove_member, daemon=True)
    with keys_server.client(lab["cid"]) as c:
        try:
            for response in c.ingest.StreamMetrics(requests(), timeout=60):
                if response.WhichOneof("kind") == "ack":
                    acked.append(response.ack.sequence)
                    if remover.ident is None:
                        remover.start()
        except StrataError as e:
            error.append(e)
        finally:
            ended = time.monotonic()
            done.set()
            if remover.ident is not None:
                remover.join(30)
    assert removed_at, "the member was never removed"
    assert ended - removed_at[0] < CUT_WITHIN
    assert error and (error[0].code, error[0].reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        Reason.PERMISSION_DENIED,
    )
    assert acked, "nothing was committed before the cut"
    committed = stored_sequences(keys_server, run)
    time.sleep(1.0)
    assert stored_sequences(keys_server, run) == committed  # nothing commits after the cut
    # every acked batch is stored; a group whose commit finished as the cut landed lost only its ack
    assert acked[-1] <= committed, (acked[-5:], committed)
