"""The registry with real authorization (keys mode): protected aliases need a project admin, and using
another project's artifact needs read access to it."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from strata.errors import Reason, StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata.registry.v1 import registry_service_pb2 as pb

import tests.fixtures.iam as iam_fixtures
from tests.registry.helpers import log_version

keys_server = iam_fixtures.keys_server

PARENT = "entities/ml/projects/classifier"
ART = f"{PARENT}/artifacts/bert"


@pytest.fixture(scope="module")
def keys(keys_server):  # type: ignore[no-untyped-def]
    alice = keys_server.user("alice")
    bob = keys_server.user("bob")
    carol = keys_server.user("carol")
    keys_server.team("ml", admin=alice, members={"bob": iam_pb2.ROLE_MEMBER})
    keys_server.project("ml", "classifier", as_key=alice)
    with keys_server.client(alice) as c:
        c.iam.UpdateProject(
            iam.UpdateProjectRequest(
                project=iam_pb2.Project(name=PARENT, protected_aliases=["production"]),
                update_mask=field_mask_pb2.FieldMask(paths=["protected_aliases"]),
            )
        )
    with keys_server.client(bob) as c:
        for i in range(2):
            log_version(keys_server, c, "ml", "classifier", "bert", {"w": f"{i}".encode()}, type="model")
    return {"alice": alice, "bob": bob, "carol": carol}


def set_alias(client, n: int, alias: str):  # type: ignore[no-untyped-def]
    return client.registry.SetAlias(pb.SetAliasRequest(version=f"{ART}/versions/v{n}", alias=alias))


def test_members_move_ordinary_aliases_but_only_admins_move_protected_ones(keys_server, keys) -> None:  # type: ignore[no-untyped-def]
    with keys_server.client(keys["bob"]) as bob:
        set_alias(bob, 0, "staging")
        with pytest.raises(StrataError) as e:
            set_alias(bob, 0, "production")
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.PERMISSION_DENIED, Reason.PROTECTED_ALIAS)
    with keys_server.client(keys["alice"]) as alice:
        set_alias(alice, 0, "production")
        set_alias(alice, 1, "production")
    with keys_server.client(keys["bob"]) as bob:
        with pytest.raises(StrataError) as e:
            bob.registry.RevertAlias(pb.RevertAliasRequest(artifact=ART, alias="production"))
        assert e.value.reason == Reason.PROTECTED_ALIAS
        aliases = {a.alias: a for a in bob.registry.ListAliases(pb.ListAliasesRequest(artifact=ART)).aliases}
        assert aliases["production"].protected and aliases["production"].version.endswith("/v1")


def test_using_another_projects_artifact_needs_read_access(keys_server, keys) -> None:  # type: ignore[no-untyped-def]
    with keys_server.client(keys["carol"]) as carol:
        with pytest.raises(StrataError) as e:
            carol.registry.ResolveArtifactVersion(
                pb.ResolveArtifactVersionRequest(ref="ml/classifier/bert:latest")
            )
        assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(StrataError) as e:  # a relative reference is checked in the project it lands in
            carol.registry.ResolveArtifactVersion(
                pb.ResolveArtifactVersionRequest(ref="bert:latest", default_parent=PARENT)
            )
        assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    with keys_server.client(keys["bob"]) as bob:
        got = bob.registry.ResolveArtifactVersion(
            pb.ResolveArtifactVersionRequest(ref="ml/classifier/bert:latest")
        )
        assert got.version.name == f"{ART}/versions/v1"
