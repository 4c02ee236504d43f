"""TTL expiry (per version, project default, "no TTL", protected-alias exemption), draft expiry, and garbage
collection: only unreferenced, untouched blobs go, dry runs change nothing, and GC racing deduping
uploads and commits never deletes a live blob."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import timedelta

import grpc
import pytest
from google.protobuf import duration_pb2
from strata.errors import Reason, StrataError
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata_server.registry.gc import store as gc_store

from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.wait import poll_until
from tests.registry.helpers import (
    audit_rows,
    create_draft,
    dedupe_upload,
    entries,
    live_blobs_intact,
    log_version,
    make_run,
    protect,
    put_blob,
    sql,
)

E, P = "frank", "gc"
PARENT = f"entities/{E}/projects/{P}"
ONE_SECOND = duration_pb2.Duration(seconds=1)


@pytest.fixture(scope="module")
def gc_server(pg_dsn, tmp_path_factory):  # type: ignore[no-untyped-def]
    """No grace period (blobs are collectable at once), short draft expiry, no background pass."""
    settings = make_settings(
        tmp_path_factory.mktemp("gc"), pg_dsn, gc_grace=0.0, draft_expiry=1.0, gc_interval=0.0
    )
    srv = ServerThread(settings).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(gc_server):  # type: ignore[no-untyped-def]
    with gc_server.client() as c:
        yield c


def gc(client, dry_run: bool = False) -> artifact_pb2.GarbageCollectionReport:  # type: ignore[no-untyped-def]
    return client.registry.RunGarbageCollection(pb.RunGarbageCollectionRequest(dry_run=dry_run)).report


def state(client, name: str) -> int:  # type: ignore[no-untyped-def]
    return client.registry.GetArtifactVersion(pb.GetArtifactVersionRequest(name=name)).version.state


def test_expired_versions_are_soft_deleted_audited_and_latest_moves_back(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    keep = log_version(gc_server, client, E, P, "ckpt", {"w": b"keep"}).version
    temp = log_version(gc_server, client, E, P, "ckpt", {"w": b"temp"}, ttl=ONE_SECOND).version
    assert temp.expire_time.ToDatetime() - temp.commit_time.ToDatetime() == timedelta(seconds=1)
    time.sleep(1.2)
    assert gc(client, dry_run=True).expired_versions == 1
    assert (
        state(client, temp.name) == artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
    )  # dry run changed nothing
    assert gc(client).expired_versions == 1
    assert state(client, temp.name) == artifact_pb2.ARTIFACT_VERSION_STATE_DELETED
    latest = client.registry.ResolveArtifactVersion(
        pb.ResolveArtifactVersionRequest(ref=f"{E}/{P}/ckpt")
    ).version
    assert latest.name == keep.name
    with pytest.raises(StrataError) as e:
        client.registry.ResolveArtifactVersion(pb.ResolveArtifactVersionRequest(ref=f"{E}/{P}/ckpt:v1"))
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    listed = client.registry.ListArtifactVersions(
        pb.ListArtifactVersionsRequest(parent=keep.artifact)
    ).versions
    assert [x.name for x in listed] == [keep.name]
    assert [r["target"] for r in audit_rows(gc_server, "artifact_version.expire")] == [temp.name]


def test_versions_holding_a_protected_alias_never_expire(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    protect(gc_server, E, P, "production")
    old = log_version(gc_server, client, E, P, "served", {"m": b"v0"}, ttl=ONE_SECOND, aliases=["production"])
    new = log_version(gc_server, client, E, P, "served", {"m": b"v1"})
    time.sleep(1.2)
    gc(client)
    assert state(client, old.version.name) == artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
    client.registry.SetAlias(pb.SetAliasRequest(version=new.version.name, alias="production"))
    gc(client)
    assert state(client, old.version.name) == artifact_pb2.ARTIFACT_VERSION_STATE_DELETED


def test_project_default_ttl_applies_unless_the_version_disables_it(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    sql(gc_server, "UPDATE projects SET default_ttl = interval '1 second' WHERE name = 'defaults'")
    log_version(gc_server, client, E, "defaults", "seed", {"x": b"seed"})  # creates the project
    sql(gc_server, "UPDATE projects SET default_ttl = interval '1 second' WHERE name = 'defaults'")
    inherits = log_version(gc_server, client, E, "defaults", "a", {"x": b"a"}).version
    forever = log_version(gc_server, client, E, "defaults", "b", {"x": b"b"}, ttl_disabled=True).version
    assert inherits.HasField("expire_time") and not forever.HasField("expire_time")
    time.sleep(1.2)
    gc(client)
    assert state(client, inherits.name) == artifact_pb2.ARTIFACT_VERSION_STATE_DELETED
    assert state(client, forever.name) == artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED


def test_idle_drafts_are_discarded(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    sha, size = put_blob(gc_server, E, P, b"abandoned upload")
    draft = create_draft(client, PARENT, "wip", {"f": (sha, size)})
    time.sleep(1.2)
    assert gc(client).expired_drafts >= 1
    with pytest.raises(StrataError) as e:
        client.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=draft.name))
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert sql(gc_server, "SELECT count(*) AS n FROM blobs WHERE sha256 = $1", sha)[0]["n"] == 0


def _blob_row(server, sha: str):  # type: ignore[no-untyped-def]
    rows = sql(server, "SELECT storage_key FROM blobs WHERE sha256 = $1", sha)
    return rows[0]["storage_key"] if rows else None


def test_gc_deletes_only_unreferenced_blobs_and_reports_bytes(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    gc(client)  # start from a clean slate
    live = log_version(gc_server, client, E, P, "refs", {"live": b"live-bytes"}).version
    doomed = log_version(gc_server, client, E, P, "refs", {"gone": b"deleted-version-bytes!"}).version
    client.registry.DeleteArtifactVersion(pb.DeleteArtifactVersionRequest(name=doomed.name))
    in_draft = put_blob(gc_server, E, P, b"draft-bytes")
    create_draft(client, PARENT, "refs", {"d": in_draft})
    run_file = put_blob(gc_server, E, P, b"run-file-bytes")
    run = make_run(gc_server, E, P)
    sql(
        gc_server,
        """INSERT INTO run_files (run_id, path, sha256, size)
           SELECT r.id, 'ckpt.pt', $2, $3 FROM runs r WHERE r.run_id = $1""",
        run.rsplit("/", 1)[1],
        *run_file,
    )
    uploading = put_blob(gc_server, E, P, b"upload-in-progress")
    sql(
        gc_server,
        """INSERT INTO upload_sessions (id, project_id, expected_size, expected_sha256, storage_key, expire_time)
           SELECT 'up1', id, $2, $1, 'tmp/up1', now() + interval '1 hour' FROM projects WHERE name = 'gc'""",
        *uploading,
    )
    orphan = put_blob(gc_server, E, P, b"nobody")
    gone_sha = put_blob(gc_server, E, P, b"deleted-version-bytes!")[0]
    gone_key, orphan_key = _blob_row(gc_server, gone_sha), _blob_row(gc_server, orphan[0])

    dry = gc(client, dry_run=True)
    assert (dry.deleted_blobs, dry.reclaimed_bytes) == (2, len(b"deleted-version-bytes!") + len(b"nobody"))
    assert _blob_row(gc_server, orphan[0]) is not None
    report = gc(client)
    assert (report.deleted_blobs, report.reclaimed_bytes) == (dry.deleted_blobs, dry.reclaimed_bytes)
    assert _blob_row(gc_server, gone_sha) is None and _blob_row(gc_server, orphan[0]) is None
    for key in (gone_key, orphan_key):
        assert gc_server.run(gc_server.deps.blobs.size(key)) is None
    for sha in (in_draft[0], run_file[0], uploading[0]):
        assert _blob_row(gc_server, sha) is not None
    assert live_blobs_intact(gc_server) == []
    assert live.name
    assert audit_rows(gc_server, "blob.delete")[-1]["target"] == "blobs"


def test_recently_touched_blobs_survive_the_grace_period(gc_server, pg_dsn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    graceful = ServerThread(make_settings(tmp_path, pg_dsn, gc_grace=3600.0, gc_interval=0.0)).start()
    try:
        sha, _ = put_blob(gc_server, E, P, b"just uploaded, not referenced yet")
        with graceful.client() as c:
            c.registry.RunGarbageCollection(pb.RunGarbageCollectionRequest())
        assert _blob_row(gc_server, sha) is not None
    finally:
        graceful.stop()


def test_background_pass_expires_versions(pg_dsn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    srv = ServerThread(make_settings(tmp_path, pg_dsn, gc_interval=0.3, gc_grace=0.0)).start()
    try:
        with srv.client() as c:
            v = log_version(srv, c, E, P, "bg", {"f": b"bg"}, ttl=ONE_SECOND).version
            poll_until(
                lambda: state(c, v.name) == artifact_pb2.ARTIFACT_VERSION_STATE_DELETED,
                interval=0.2,
                what="the background pass to expire the version",
            )
    finally:
        srv.stop()


def _uploader(server, rounds: int, seed: int, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    try:
        _upload_rounds(server, rounds, seed, problems)
    except Exception as e:
        problems.append(f"uploader {seed} failed: {e!r}")


def _upload_rounds(server, rounds: int, seed: int, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Log versions whose content repeats, so uploads dedupe against blobs GC may be collecting."""
    rng = random.Random(seed)
    with server.client() as c:
        for i in range(rounds):
            files = {f"f{j}": f"content {rng.randrange(6)}".encode() for j in range(3)}
            for _attempt in range(30):
                digests = {}
                for path, data in files.items():
                    sha, size, _ = dedupe_upload(server, E, "race", data)
                    digests[path] = (sha, size)
                    time.sleep(rng.random() * 0.002)
                try:
                    draft = c.registry.CreateArtifactVersion(
                        pb.CreateArtifactVersionRequest(
                            parent=f"entities/{E}/projects/race",
                            artifact=f"a{seed}",
                            type="dataset",
                            entries=entries(digests),
                        )
                    ).version
                    time.sleep(rng.random() * 0.002)
                    v = c.registry.CommitArtifactVersion(
                        pb.CommitArtifactVersionRequest(draft=draft.name)
                    ).version
                    break
                except StrataError as e:
                    if e.reason != Reason.BLOB_MISSING:
                        raise
            else:
                problems.append(f"round {i}: never committed")
                continue
            if i % 2 and v.version > 0:  # make garbage: delete an older version
                prev = f"{v.artifact}/versions/v{v.version - 1}"
                try:
                    c.registry.DeleteArtifactVersion(pb.DeleteArtifactVersionRequest(name=prev))
                except StrataError as e:
                    if e.code != grpc.StatusCode.NOT_FOUND:
                        raise


def test_gc_racing_deduping_uploads_and_commits_never_deletes_a_live_blob(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    passes, deleted = [0], [0]

    def collector() -> None:
        with gc_server.client() as c:
            while not stop.is_set():
                deleted[0] += gc(c).deleted_blobs
                passes[0] += 1

    problems: list[str] = []
    threads = [threading.Thread(target=collector)] + [
        threading.Thread(target=_uploader, args=(gc_server, 40, seed, problems)) for seed in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join(timeout=240)
    stop.set()
    threads[0].join(timeout=60)
    assert problems == []
    assert passes[0] > 10 and deleted[0] > 0  # GC really ran, and collected, while uploads deduped
    gc(client)
    assert live_blobs_intact(gc_server) == []


async def _gc_paused_before_commit(deps, sha: str, locked: threading.Event, proceed: threading.Event) -> int:  # type: ignore[no-untyped-def]
    """A GC transaction that has locked the blob, re-checked it is unreferenced and deleted its row, then
    waits (uncommitted) until told to proceed."""
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            deleted = await gc_store.delete_unreferenced(conn, [sha], 0.0)
            locked.set()
            await asyncio.to_thread(proceed.wait, 30)
    for _, _, key in deleted:
        await deps.blobs.delete(key)
    return len(deleted)


def _waiting_on_a_lock(server) -> bool:  # type: ignore[no-untyped-def]
    rows = sql(server, "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    return rows[0]["n"] > 0


def test_a_commit_racing_gc_on_the_same_blob_never_commits_a_deleted_blob(gc_server, client) -> None:  # type: ignore[no-untyped-def]
    """The exact interleaving, repeated: GC has decided a blob is garbage (row locked, re-checked, deleted,
    not yet committed) when a client that was told "present" creates its draft and commits. The commit
    waits on the blob's row lock, then answers BLOB_MISSING; the client re-uploads and commits."""
    for round_ in range(5):
        data = f"raced blob {round_}".encode()
        sha, size, _ = dedupe_upload(gc_server, E, P, data)
        locked, proceed = threading.Event(), threading.Event()
        gc_done = asyncio.run_coroutine_threadsafe(
            _gc_paused_before_commit(gc_server.deps, sha, locked, proceed), gc_server.loop
        )
        assert locked.wait(10)
        draft = create_draft(client, PARENT, "raced", {"f": (sha, size)})
        outcome: list[object] = []

        def commit(name: str = draft.name, outcome: list[object] = outcome) -> None:
            try:
                outcome.append(
                    client.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=name))
                )
            except StrataError as e:
                outcome.append(e)

        t = threading.Thread(target=commit)
        t.start()
        poll_until(
            lambda: _waiting_on_a_lock(gc_server),
            timeout=10,
            interval=0.02,
            what="the commit to wait for the GC's row lock",
        )
        proceed.set()
        t.join(timeout=30)
        assert gc_done.result(30) == 1
        assert isinstance(outcome[0], StrataError) and outcome[0].reason == Reason.BLOB_MISSING
        assert dedupe_upload(gc_server, E, P, data)[2]  # really gone: uploaded again
        committed = client.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=draft.name))
        assert committed.version.state == artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
    assert live_blobs_intact(gc_server) == []


def test_bytes_gc_could_not_delete_are_retried_at_the_next_pass_never_orphaned(  # type: ignore[no-untyped-def]
    postgres, seaweed, s3_settings, tmp_path
) -> None:
    """The blob row goes in the same transaction that records its bytes in blob_deletions; with S3
    down the bytes stay (with the error) and the next pass after S3 is back deletes them."""
    settings = make_settings(
        tmp_path, postgres.create_database(), s3=s3_settings, gc_grace=0.0, gc_interval=0.0
    )
    srv = ServerThread(settings).start()
    try:
        with srv.client() as c:
            sha, _ = put_blob(srv, E, P, b"bytes nobody references")
            [row] = sql(srv, "SELECT storage_key FROM blobs WHERE sha256 = $1", sha)
            key = row["storage_key"]
            assert srv.run(srv.deps.blobs.size(key)) == len(b"bytes nobody references")
            seaweed.stop()
            try:
                report = gc(c)
                assert report.deleted_blobs == 1  # the row is gone, its bytes are remembered
                assert sql(srv, "SELECT sha256 FROM blobs WHERE sha256 = $1", sha) == []
                [pending] = sql(srv, "SELECT sha256, attempts, last_error FROM blob_deletions")
                assert pending["sha256"] == sha and pending["attempts"] == 1 and pending["last_error"]
            finally:
                seaweed.start()
            assert srv.run(srv.deps.blobs.size(key)) is not None  # still there: nothing deleted it yet
            gc(c)
            assert srv.run(srv.deps.blobs.size(key)) is None
            assert sql(srv, "SELECT * FROM blob_deletions") == []
    finally:
        srv.stop()
