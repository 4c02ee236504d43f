"""Artifact versions through a real server: drafts, atomic commits v0..vN, dedupe, immutability, the
resolution grammar, lists, edits with audit, deletion, incremental versions, lineage edges, usage."""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from strata.errors import Reason, StrataError
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb
from strata_server.registry.model import Entry
from strata_server.registry.versions.manifest import manifest_digest

from tests.registry.helpers import audit_rows, create_draft, entries, log_version, make_run, put_blob, sql

E, P = "alice", "text-classifier"
PARENT = f"entities/{E}/projects/{P}"


def test_log_creates_v0_then_v1_and_latest_follows(server, client) -> None:  # type: ignore[no-untyped-def]
    r0 = log_version(server, client, E, P, "bert", {"model.pth": b"weights-0"}, type="model")
    r1 = log_version(server, client, E, P, "bert", {"model.pth": b"weights-1"}, type="model")
    assert (r0.version.version, r1.version.version) == (0, 1)
    assert not r0.deduplicated and not r1.deduplicated
    assert r1.version.name == f"{PARENT}/artifacts/bert/versions/v1"
    assert r1.version.state == artifact_pb2.ARTIFACT_VERSION_STATE_COMMITTED
    assert list(r1.version.aliases) == ["latest"]
    v0 = client.registry.GetArtifactVersion(pb.GetArtifactVersionRequest(name=r0.version.name)).version
    assert list(v0.aliases) == []
    art = client.registry.GetArtifact(pb.GetArtifactRequest(name=f"{PARENT}/artifacts/bert")).artifact
    assert (art.type, art.version_count, art.latest_version) == ("model", 2, r1.version.name)


def test_identical_content_logged_twice_is_one_version(server, client) -> None:  # type: ignore[no-untyped-def]
    first = log_version(server, client, E, P, "same", {"a.txt": b"A", "b/c.txt": b"C"})
    again = log_version(server, client, E, P, "same", {"b/c.txt": b"C", "a.txt": b"A"}, aliases=["dev"])
    assert again.deduplicated
    assert again.version.name == first.version.name
    assert "dev" in again.version.aliases  # requested aliases land on the existing version
    versions = client.registry.ListArtifactVersions(
        pb.ListArtifactVersionsRequest(parent=f"{PARENT}/artifacts/same")
    ).versions
    assert [v.version for v in versions] == [0]
    drafts = sql(server, "SELECT count(*) AS n FROM artifact_versions WHERE version IS NULL AND state = 1")
    assert drafts[0]["n"] == 0


def test_manifest_digest_matches_the_documented_canonical_form(server, client) -> None:  # type: ignore[no-untyped-def]
    files = {"z.bin": b"zz", "a/b.txt": b"ab", "a.txt": b"a"}
    r = log_version(server, client, E, P, "digest", files)
    expected = manifest_digest(Entry(path, *put_blob(server, E, P, data)) for path, data in files.items())
    assert r.version.manifest_digest == expected
    assert (r.version.file_count, r.version.total_size) == (3, 5)


def test_committed_manifest_is_immutable_and_recommit_is_idempotent(server, client) -> None:  # type: ignore[no-untyped-def]
    sha, size = put_blob(server, E, P, b"x")
    draft = create_draft(client, PARENT, "imm", {"x": (sha, size)})
    assert draft.state == artifact_pb2.ARTIFACT_VERSION_STATE_DRAFT and draft.version == -1
    committed = client.registry.CommitArtifactVersion(
        pb.CommitArtifactVersionRequest(draft=draft.name)
    ).version
    again = client.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=draft.name))
    assert again.version.name == committed.name and not again.deduplicated
    for target in (draft.name, committed.name):
        with pytest.raises(StrataError) as e:
            client.registry.AppendManifestEntries(
                pb.AppendManifestEntriesRequest(draft=target, entries=entries({"y": (sha, size)}))
            )
        assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
        assert e.value.reason == Reason.VERSION_IMMUTABLE
    listed = client.registry.ListManifestEntries(
        pb.ListManifestEntriesRequest(version=committed.name)
    ).entries
    assert [e.path for e in listed] == ["x"]


def test_append_adds_replaces_and_removes_entries_of_a_draft(server, client) -> None:  # type: ignore[no-untyped-def]
    a, b = put_blob(server, E, P, b"aaa"), put_blob(server, E, P, b"bb")
    draft = create_draft(client, PARENT, "app", {"1": a, "2": a})
    draft = client.registry.AppendManifestEntries(
        pb.AppendManifestEntriesRequest(
            draft=draft.name, entries=entries({"2": b, "3": b}), removed_paths=["1"]
        )
    ).version
    assert (draft.file_count, draft.total_size) == (2, 4)
    v = client.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=draft.name)).version
    listed = client.registry.ListManifestEntries(pb.ListManifestEntriesRequest(version=v.name)).entries
    assert [(e.path, e.blob.sha256) for e in listed] == [("2", b[0]), ("3", b[0])]


def test_resolution_grammar_and_cross_project_references(server, client) -> None:  # type: ignore[no-untyped-def]
    log_version(server, client, "team-a", "pretraining", "bert-base", {"bert.pth": b"base0"}, type="model")
    r1 = log_version(
        server,
        client,
        "team-a",
        "pretraining",
        "bert-base",
        {"bert.pth": b"base1"},
        type="model",
        aliases=["prod"],
    )
    default = "entities/team-a/projects/pretraining"
    v1 = r1.version.name

    def resolve(ref: str, parent: str = default) -> str:
        return client.registry.ResolveArtifactVersion(
            pb.ResolveArtifactVersionRequest(ref=ref, default_parent=parent)
        ).version.name

    assert resolve("bert-base") == v1
    assert resolve("bert-base:latest") == v1
    assert resolve("bert-base:v0").endswith("/versions/v0")
    assert resolve("bert-base:prod") == v1
    assert resolve("pretraining/bert-base:prod", "entities/team-a/projects/other") == v1
    assert resolve("team-a/pretraining/bert-base:latest", "entities/team-b/projects/finetuning") == v1
    assert resolve("team-a/pretraining/bert-base:v1", "") == v1
    assert resolve(v1, "") == v1


@pytest.mark.parametrize(
    ("ref", "resource_type"),
    [
        ("nope:latest", "artifact"),
        ("bert-base:v9", "artifact version"),
        ("bert-base:staging", "artifact alias"),
        ("team-a/elsewhere/bert-base", "artifact"),
    ],
)
def test_resolving_what_does_not_exist_names_the_resource(server, client, ref, resource_type) -> None:  # type: ignore[no-untyped-def]
    log_version(server, client, "team-a", "pretraining", "bert-base", {"bert.pth": b"base0"}, type="model")
    with pytest.raises(StrataError) as e:
        client.registry.ResolveArtifactVersion(
            pb.ResolveArtifactVersionRequest(ref=ref, default_parent="entities/team-a/projects/pretraining")
        )
    assert e.value.code == grpc.StatusCode.NOT_FOUND and e.value.reason == Reason.NOT_FOUND
    info = next(d for d in e.value.details if type(d).__name__ == "ResourceInfo")
    assert info.resource_type == resource_type
    assert "bert-base" in info.resource_name or "nope" in info.resource_name


def test_use_records_one_used_edge_and_commit_records_the_producer(server, client) -> None:  # type: ignore[no-untyped-def]
    producer = make_run(server, E, P)
    consumer = make_run(server, E, P)
    v = log_version(server, client, E, P, "support-tickets", {"raw.csv": b"t1"}, run=producer).version
    assert v.producer_run == producer
    for _ in range(3):
        used = client.registry.UseArtifactVersion(
            pb.UseArtifactVersionRequest(run=consumer, ref="support-tickets:v0")
        )
        assert used.version.name == v.name
    rows = sql(
        server,
        """SELECT r.run_id, le.kind FROM lineage_edges le JOIN runs r ON r.id = le.run_id
           JOIN artifact_versions v ON v.id = le.version_id JOIN artifacts a ON a.id = v.artifact_id
           WHERE a.name = 'support-tickets' ORDER BY le.kind""",
    )
    assert [(r["run_id"], r["kind"]) for r in rows] == [
        (producer.rsplit("/", 1)[1], 1),
        (consumer.rsplit("/", 1)[1], 2),
    ]
    assert len(audit_rows(server, "artifact_version.use")) == 1


def test_lists_page_with_tokens_and_entries_filter_by_prefix(server, client) -> None:  # type: ignore[no-untyped-def]
    files = {f"train/{i:02d}.txt": f"t{i}".encode() for i in range(7)} | {"val/0.txt": b"v0"}
    v = log_version(server, client, E, P, "paged", files).version
    seen, token = [], ""
    while True:
        page = client.registry.ListManifestEntries(
            pb.ListManifestEntriesRequest(version=v.name, path_prefix="train/", page_size=3, page_token=token)
        )
        seen += [e.path for e in page.entries]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(p for p in files if p.startswith("train/"))
    with pytest.raises(StrataError) as e:
        client.registry.ListManifestEntries(
            pb.ListManifestEntriesRequest(
                version=v.name, path_prefix="val/", page_token=page_token_of(client, v.name)
            )
        )
    assert e.value.reason == Reason.INVALID_PAGE_TOKEN
    for i in range(3):
        log_version(server, client, E, P, "paged", {"f": str(i).encode()})
    first = client.registry.ListArtifactVersions(
        pb.ListArtifactVersionsRequest(parent=v.artifact, page_size=2)
    )
    rest = client.registry.ListArtifactVersions(
        pb.ListArtifactVersionsRequest(parent=v.artifact, page_size=2, page_token=first.next_page_token)
    )
    assert [x.version for x in first.versions] + [x.version for x in rest.versions] == [3, 2, 1, 0]
    assert rest.next_page_token == ""
    names = [
        a.name.rsplit("/", 1)[1]
        for a in client.registry.ListArtifacts(pb.ListArtifactsRequest(parent=PARENT)).artifacts
    ]
    assert "paged" in names and names == sorted(names)


def page_token_of(client, version: str) -> str:  # type: ignore[no-untyped-def]
    return client.registry.ListManifestEntries(
        pb.ListManifestEntriesRequest(version=version, path_prefix="train/", page_size=1)
    ).next_page_token


def test_update_edits_description_metadata_ttl_with_before_after_audit(server, client) -> None:  # type: ignore[no-untyped-def]
    v = log_version(server, client, E, P, "edit", {"m": b"m"}, metadata_json='{"f1": 0.89}').version
    ttl = duration_pb2.Duration()
    ttl.FromTimedelta(timedelta(days=7))
    updated = client.registry.UpdateArtifactVersion(
        pb.UpdateArtifactVersionRequest(
            version=artifact_pb2.ArtifactVersion(
                name=v.name, description="validated", metadata_json='{"f1": 0.91, "epochs": 10}', ttl=ttl
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["description", "metadata_json", "ttl"]),
        )
    ).version
    assert updated.description == "validated"
    assert json.loads(updated.metadata_json) == {"f1": 0.91, "epochs": 10}
    assert updated.ttl.ToTimedelta() == timedelta(days=7)
    expire = updated.expire_time.ToDatetime() - updated.commit_time.ToDatetime()
    assert expire == timedelta(days=7)
    assert updated.manifest_digest == v.manifest_digest
    record = audit_rows(server, "artifact_version.update")[-1]
    assert record["target"] == v.name
    assert (
        json.loads(record["before"])["description"] == ""
        and json.loads(record["after"])["description"] == "validated"
    )
    never = client.registry.UpdateArtifactVersion(
        pb.UpdateArtifactVersionRequest(
            version=artifact_pb2.ArtifactVersion(name=v.name, ttl_disabled=True),
            update_mask=field_mask_pb2.FieldMask(paths=["ttl_disabled"]),
        )
    ).version
    assert never.ttl_disabled and not never.HasField("ttl") and not never.HasField("expire_time")


def test_delete_refuses_aliased_versions_unless_asked_and_latest_moves_back(server, client) -> None:  # type: ignore[no-untyped-def]
    log_version(server, client, E, P, "del", {"f": b"0"})
    v1 = log_version(server, client, E, P, "del", {"f": b"1"}, aliases=["staging"]).version
    with pytest.raises(StrataError) as e:
        client.registry.DeleteArtifactVersion(pb.DeleteArtifactVersionRequest(name=v1.name))
    assert (
        e.value.code == grpc.StatusCode.FAILED_PRECONDITION and e.value.reason == Reason.VERSION_HAS_ALIASES
    )
    deleted = client.registry.DeleteArtifactVersion(
        pb.DeleteArtifactVersionRequest(name=v1.name, delete_aliases=True)
    ).version
    assert deleted.state == artifact_pb2.ARTIFACT_VERSION_STATE_DELETED and deleted.HasField("delete_time")
    latest = client.registry.ResolveArtifactVersion(
        pb.ResolveArtifactVersionRequest(ref="del:latest", default_parent=PARENT)
    ).version
    assert latest.version == 0
    with pytest.raises(StrataError) as e:
        client.registry.ResolveArtifactVersion(
            pb.ResolveArtifactVersionRequest(ref="del:v1", default_parent=PARENT)
        )
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    history = client.registry.ListAliasHistory(
        pb.ListAliasHistoryRequest(artifact=v1.artifact, alias="staging")
    ).events
    assert history[0].kind == artifact_pb2.ALIAS_EVENT_KIND_DROPPED
    v2 = log_version(server, client, E, P, "del", {"f": b"2"}).version
    assert v2.version == 2  # numbers are never reused
    assert len(audit_rows(server, "artifact_version.delete")) >= 1


def test_incremental_version_copies_the_base_manifest(server, client) -> None:  # type: ignore[no-untyped-def]
    files = {f"data/{i}.txt": f"row {i}".encode() for i in range(50)}
    base = log_version(server, client, E, P, "inc", files).version
    changed = put_blob(server, E, P, b"row 7 fixed")
    draft = client.registry.CreateArtifactVersion(
        pb.CreateArtifactVersionRequest(
            parent=PARENT,
            artifact="inc",
            type="dataset",
            base_version=base.name,
            entries=entries({"data/7.txt": changed}),
            removed_paths=["data/9.txt"],
        )
    ).version
    assert draft.base_version == base.name and draft.file_count == 49
    v = client.registry.CommitArtifactVersion(pb.CommitArtifactVersionRequest(draft=draft.name)).version
    listed = {
        e.path: e.blob.sha256
        for e in client.registry.ListManifestEntries(pb.ListManifestEntriesRequest(version=v.name)).entries
    }
    assert listed["data/7.txt"] == changed[0] and "data/9.txt" not in listed and len(listed) == 49


def test_storage_usage_reports_logical_vs_deduplicated_bytes(server, client) -> None:  # type: ignore[no-untyped-def]
    big = b"x" * 1000
    log_version(server, client, "usage", "p", "a", {"one": big, "two": big})
    log_version(server, client, "usage", "p", "b", {"copy": big, "small": b"yy"})
    usage = client.registry.GetStorageUsage(
        pb.GetStorageUsageRequest(parent="entities/usage/projects/p")
    ).usage
    assert (usage.logical_bytes, usage.stored_bytes) == (3002, 1002)
    assert (usage.version_count, usage.blob_count) == (2, 2)
