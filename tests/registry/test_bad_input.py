"""Every bad input to the registry gets a clear error with a stable reason, and writes nothing."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from strata.common.v1 import blob_pb2
from strata.errors import Reason
from strata.registry.v1 import artifact_pb2
from strata.registry.v1 import registry_service_pb2 as pb

from tests.registry.helpers import assert_refused, deny_admin, log_version, protect, put_blob

E, P = "bob", "bad-input"
PARENT = f"entities/{E}/projects/{P}"
INVALID, FAILED, NOT_FOUND = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
)


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    with server.client() as c:
        log_version(server, c, E, P, "model", {"m.pth": b"m0"}, type="model")
        log_version(server, c, E, P, "model", {"m.pth": b"m1"}, type="model", aliases=["production"])
        yield c


def blob(server, data: bytes = b"ok") -> artifact_pb2.ManifestEntry:  # type: ignore[no-untyped-def]
    sha, size = put_blob(server, E, P, data)
    return artifact_pb2.ManifestEntry(path="ok.txt", blob=blob_pb2.BlobDigest(sha256=sha, size=size))


def create(client, **fields):  # type: ignore[no-untyped-def]
    base = {"parent": PARENT, "artifact": "ds", "type": "dataset"}
    return client.registry.CreateArtifactVersion(pb.CreateArtifactVersionRequest(**{**base, **fields}))


def entry(path: str, sha: str = "a" * 64, size: int = 1) -> artifact_pb2.ManifestEntry:
    return artifact_pb2.ManifestEntry(path=path, blob=blob_pb2.BlobDigest(sha256=sha, size=size))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"artifact": "bad name!"}, Reason.INVALID_NAME),
        ({"artifact": "a" * 129}, Reason.INVALID_NAME),
        ({"artifact": ".."}, Reason.INVALID_NAME),
        ({"artifact": ""}, Reason.FIELD_REQUIRED),
        ({"type": "a/b"}, Reason.INVALID_NAME),
        ({"type": ""}, Reason.FIELD_REQUIRED),
        ({"parent": "projects/x"}, Reason.INVALID_NAME),
        ({"metadata_json": "{not json"}, Reason.INVALID_JSON),
        ({"metadata_json": "[1, 2]"}, Reason.INVALID_JSON),
        ({"metadata_json": '{"x": NaN}'}, Reason.INVALID_JSON),
        ({"metadata_json": '{"x": "' + "y" * (256 * 1024) + '"}'}, Reason.TOO_LARGE),
        ({"entries": [entry("../etc/passwd")]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("/abs/path")]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("a//b")]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("a/./b")]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("a\\b")]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("a\nb")]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("x" * 1025)]}, Reason.UNSAFE_PATH),
        ({"entries": [entry("same"), entry("same", "b" * 64)]}, Reason.DUPLICATE_PATH),
        ({"entries": [entry("f", sha="XYZ")]}, Reason.INVALID_DIGEST),
        ({"entries": [entry("f", size=-1)]}, Reason.INVALID_DIGEST),
        ({"entries": [artifact_pb2.ManifestEntry(path="f")]}, Reason.FIELD_REQUIRED),
        (
            {
                "entries": [
                    artifact_pb2.ManifestEntry(
                        path="r", reference=artifact_pb2.ExternalReference(uri="ftp://host/x")
                    )
                ]
            },
            Reason.INVALID_NAME,
        ),
        ({"entries": [entry(f"f{i}") for i in range(10_001)]}, Reason.TOO_LARGE),
        ({"removed_paths": ["../x"]}, Reason.UNSAFE_PATH),
        ({"ttl": duration_pb2.Duration(seconds=-5)}, Reason.OUT_OF_RANGE),
        ({"ttl": duration_pb2.Duration(seconds=5), "ttl_disabled": True}, Reason.OUT_OF_RANGE),
        ({"base_version": "entities/bob/projects/other/artifacts/ds/versions/v0"}, Reason.INVALID_NAME),
        ({"run": "not-a-run"}, Reason.INVALID_NAME),
    ],
)
def test_create_refuses_bad_input(server, client, fields, reason) -> None:  # type: ignore[no-untyped-def]
    assert_refused(server, lambda: create(client, **fields), INVALID, reason)


@pytest.mark.parametrize(
    ("fields", "code", "reason"),
    [
        ({"artifact": "model", "type": "dataset"}, FAILED, Reason.ARTIFACT_TYPE_MISMATCH),
        ({"base_version": f"{PARENT}/artifacts/model/versions/v7"}, NOT_FOUND, Reason.NOT_FOUND),
        ({"run": f"{PARENT}/runs/ghost"}, NOT_FOUND, Reason.NOT_FOUND),
    ],
)
def test_create_refuses_what_conflicts_or_does_not_exist(server, client, fields, code, reason) -> None:  # type: ignore[no-untyped-def]
    assert_refused(server, lambda: create(client, **fields), code, reason)


def commit(client, draft: str, aliases=()):  # type: ignore[no-untyped-def]
    return client.registry.CommitArtifactVersion(
        pb.CommitArtifactVersionRequest(draft=draft, aliases=list(aliases))
    )


def test_commit_with_missing_blobs_is_refused_and_commits_nothing(server, client) -> None:  # type: ignore[no-untyped-def]
    draft = create(client, entries=[blob(server), entry("never-uploaded.bin", sha="c" * 64)]).version
    err = assert_refused(server, lambda: commit(client, draft.name), FAILED, Reason.BLOB_MISSING)
    assert "c" * 64 in err.message
    assert client.registry.GetArtifactVersion(
        pb.GetArtifactVersionRequest(name=draft.name)
    ).version.state == (artifact_pb2.ARTIFACT_VERSION_STATE_DRAFT)


def test_knowing_a_digest_from_another_project_is_not_possession(server, client) -> None:  # type: ignore[no-untyped-def]
    sha, size = put_blob(server, "someone-else", "secret", b"their private weights")
    draft = create(client, entries=[entry("stolen.bin", sha, size)]).version
    assert_refused(server, lambda: commit(client, draft.name), FAILED, Reason.BLOB_MISSING)


def test_a_digest_with_the_wrong_size_is_missing(server, client) -> None:  # type: ignore[no-untyped-def]
    sha, size = put_blob(server, E, P, b"sized")
    draft = create(client, entries=[entry("f", sha, size + 1)]).version
    assert_refused(server, lambda: commit(client, draft.name), FAILED, Reason.BLOB_MISSING)


def test_a_path_that_is_also_a_directory_is_refused_at_commit(server, client) -> None:  # type: ignore[no-untyped-def]
    sha, size = put_blob(server, E, P, b"dir")
    draft = create(client, entries=[entry("a", sha, size), entry("a/b", sha, size)]).version
    assert_refused(server, lambda: commit(client, draft.name), INVALID, Reason.UNSAFE_PATH)


@pytest.mark.parametrize(
    ("aliases", "reason"),
    [
        (["latest"], Reason.RESERVED_ALIAS),
        (["v3"], Reason.RESERVED_ALIAS),
        (["bad alias"], Reason.INVALID_NAME),
    ],
)
def test_commit_refuses_reserved_and_invalid_aliases(server, client, aliases, reason) -> None:  # type: ignore[no-untyped-def]
    draft = create(client, entries=[blob(server, b"alias-test")]).version
    assert_refused(server, lambda: commit(client, draft.name, aliases), INVALID, reason)


def version(n: int) -> str:
    return f"{PARENT}/artifacts/model/versions/v{n}"


@pytest.mark.parametrize(
    ("request_", "code", "reason"),
    [
        (pb.SetAliasRequest(version=version(0), alias="latest"), INVALID, Reason.RESERVED_ALIAS),
        (pb.SetAliasRequest(version=version(0), alias="v1"), INVALID, Reason.RESERVED_ALIAS),
        (pb.SetAliasRequest(version=version(0), alias="no spaces"), INVALID, Reason.INVALID_NAME),
        (pb.SetAliasRequest(version=version(0), alias="x" * 65), INVALID, Reason.INVALID_NAME),
        (pb.SetAliasRequest(version=version(9), alias="dev"), NOT_FOUND, Reason.NOT_FOUND),
        (
            pb.SetAliasRequest(version=f"{PARENT}/artifacts/model/drafts/abc", alias="dev"),
            INVALID,
            Reason.INVALID_NAME,
        ),
    ],
)
def test_set_alias_refuses_bad_input(server, client, request_, code, reason) -> None:  # type: ignore[no-untyped-def]
    assert_refused(server, lambda: client.registry.SetAlias(request_), code, reason)


def test_remove_and_revert_refuse_what_cannot_be_done(server, client) -> None:  # type: ignore[no-untyped-def]
    art = f"{PARENT}/artifacts/model"
    assert_refused(
        server,
        lambda: client.registry.RemoveAlias(pb.RemoveAliasRequest(artifact=art, alias="latest")),
        INVALID,
        Reason.RESERVED_ALIAS,
    )
    assert_refused(
        server,
        lambda: client.registry.RemoveAlias(pb.RemoveAliasRequest(artifact=art, alias="nobody-has-it")),
        NOT_FOUND,
        Reason.NOT_FOUND,
    )
    assert_refused(
        server,
        lambda: client.registry.RevertAlias(pb.RevertAliasRequest(artifact=art, alias="production")),
        FAILED,
        Reason.NOTHING_TO_REVERT,
    )


def test_moving_a_protected_alias_without_admin_rights_is_refused(server, client) -> None:  # type: ignore[no-untyped-def]
    protect(server, E, P, "production")
    art = f"{PARENT}/artifacts/model"
    draft = create(client, artifact="model", type="model", entries=[blob(server, b"m2")]).version
    denied = grpc.StatusCode.PERMISSION_DENIED
    with deny_admin(server):
        for call in (
            lambda: client.registry.SetAlias(pb.SetAliasRequest(version=version(0), alias="production")),
            lambda: client.registry.RemoveAlias(pb.RemoveAliasRequest(artifact=art, alias="production")),
            lambda: client.registry.RevertAlias(pb.RevertAliasRequest(artifact=art, alias="production")),
            lambda: commit(client, draft.name, ["production"]),
        ):
            assert_refused(server, call, denied, Reason.PROTECTED_ALIAS)
        # unprotected aliases still move for members
        client.registry.SetAlias(pb.SetAliasRequest(version=version(0), alias="staging"))
    event = client.registry.SetAlias(pb.SetAliasRequest(version=version(0), alias="production")).event
    assert event.to_version == version(0)  # an admin may


@pytest.mark.parametrize(
    ("paths", "reason"),
    [
        ([], Reason.INVALID_UPDATE_MASK),
        (["manifest_digest"], Reason.INVALID_UPDATE_MASK),
        (["aliases"], Reason.INVALID_UPDATE_MASK),
    ],
)
def test_update_refuses_fields_outside_the_mask(server, client, paths, reason) -> None:  # type: ignore[no-untyped-def]
    req = pb.UpdateArtifactVersionRequest(
        version=artifact_pb2.ArtifactVersion(name=version(0), manifest_digest="0" * 64),
        update_mask=field_mask_pb2.FieldMask(paths=paths),
    )
    assert_refused(server, lambda: client.registry.UpdateArtifactVersion(req), INVALID, reason)


def test_update_refuses_bad_metadata(server, client) -> None:  # type: ignore[no-untyped-def]
    req = pb.UpdateArtifactVersionRequest(
        version=artifact_pb2.ArtifactVersion(name=version(0), metadata_json='"a string"'),
        update_mask=field_mask_pb2.FieldMask(paths=["metadata_json"]),
    )
    assert_refused(server, lambda: client.registry.UpdateArtifactVersion(req), INVALID, Reason.INVALID_JSON)


@pytest.mark.parametrize(
    ("ref", "reason"),
    [
        ("", Reason.FIELD_REQUIRED),
        ("a/b/c/d", Reason.INVALID_ARTIFACT_REF),
        ("model:", Reason.INVALID_ARTIFACT_REF),
        ("model:bad alias", Reason.INVALID_ARTIFACT_REF),
        ("/model", Reason.INVALID_ARTIFACT_REF),
        ("model$:v1", Reason.INVALID_NAME),
    ],
)
def test_resolve_refuses_malformed_references(server, client, ref, reason) -> None:  # type: ignore[no-untyped-def]
    req = pb.ResolveArtifactVersionRequest(ref=ref, default_parent=PARENT)
    assert_refused(server, lambda: client.registry.ResolveArtifactVersion(req), INVALID, reason)


def test_lists_refuse_bad_page_size_and_tokens(server, client) -> None:  # type: ignore[no-untyped-def]
    art = f"{PARENT}/artifacts/model"
    assert_refused(
        server,
        lambda: client.registry.ListArtifactVersions(
            pb.ListArtifactVersionsRequest(parent=art, page_size=-1)
        ),
        INVALID,
        Reason.OUT_OF_RANGE,
    )
    assert_refused(
        server,
        lambda: client.registry.ListAliasHistory(
            pb.ListAliasHistoryRequest(artifact=art, page_token="garbage!")
        ),
        INVALID,
        Reason.INVALID_PAGE_TOKEN,
    )
    # a token of the right query whose key has the wrong type (forged: the query hash is computable)
    from strata_server.common import paging

    forged = paging.encode("v9", ("versions", art, False))
    assert_refused(
        server,
        lambda: client.registry.ListArtifactVersions(
            pb.ListArtifactVersionsRequest(parent=art, page_token=forged)
        ),
        INVALID,
        Reason.INVALID_PAGE_TOKEN,
    )
