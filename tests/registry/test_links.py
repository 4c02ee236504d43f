"""A registry across projects: versions of two projects linked into one registry collection, which has
its own version numbers and aliases (a protected "production" with history), resolves and downloads
through the link, is followed by lineage, and is guarded by write on the registry + read on the source.

World (keys mode): team `ml` (admin ana, members bob and val) owns the source projects ml/vision and
ml/nlp; team `reg` (admin rita, members bob and carol, viewer val) owns the registry reg/models, whose
"production" alias is protected. carol cannot read ml; val cannot write reg.
"""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
import strata
from google.protobuf import field_mask_pb2
from strata.errors import Reason, StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata.registry.v1 import registry_service_pb2 as pb
from strata.sdk import lineage
from strata.sdk._lineage_text import graph_text

import tests.fixtures.iam as iam_fixtures
from tests.registry.helpers import audit_rows

keys_server = iam_fixtures.keys_server
pytestmark = pytest.mark.timeout(120)

REGISTRY = "entities/reg/projects/models"
COLLECTION = f"{REGISTRY}/artifacts/classifier"
MEMBER, VIEWER = iam_pb2.ROLE_MEMBER, iam_pb2.ROLE_VIEWER


@pytest.fixture(scope="module")
def keys(keys_server):  # type: ignore[no-untyped-def]
    names = ("ana", "bob", "val", "rita", "carol")
    k = {n: keys_server.user(n) for n in names}
    keys_server.team("ml", admin=k["ana"], members={"bob": MEMBER, "val": MEMBER})
    keys_server.team("reg", admin=k["rita"], members={"bob": MEMBER, "carol": MEMBER, "val": VIEWER})
    for project in ("vision", "nlp"):
        keys_server.project("ml", project, as_key=k["ana"])
    keys_server.project("reg", "models", as_key=k["rita"])
    with keys_server.client(k["rita"]) as c:
        c.iam.UpdateProject(
            iam.UpdateProjectRequest(
                project=iam_pb2.Project(name=REGISTRY, protected_aliases=["production"]),
                update_mask=field_mask_pb2.FieldMask(paths=["protected_aliases"]),
            )
        )
    return k


@pytest.fixture
def as_user(keys_server, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Point the SDK at the server as a given user: as_user("bob")."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATA_ADDR", keys_server.addr)
    monkeypatch.setenv("STRATA_QUIET", "1")
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))

    def use(key: str) -> None:
        monkeypatch.setenv("STRATA_API_KEY", key)

    return use


def _train(project: str, payload: bytes) -> tuple[strata.Artifact, str]:
    """A run of ml/`project` that uses a dataset and logs a model; returns (model, run name)."""
    prep = strata.init(entity="ml", project=project, job_type="prep")
    data = strata.Artifact("data", type="dataset")
    data.add_file(_write("data.csv", b"x,y\n" + payload))
    prep.log_artifact(data)
    prep.finish()
    run = strata.init(entity="ml", project=project, job_type="train")
    run.use_artifact("data:latest")
    model = strata.Artifact("model", type="model", metadata={"project": project})
    model.add_file(_write("weights.bin", payload))
    run.log_artifact(model)
    run.finish()
    return model, run.resource_name


def _write(name: str, data: bytes) -> str:
    Path(name).write_bytes(data)
    return name


@pytest.fixture(scope="module")
def linked(keys_server, keys, tmp_path_factory):  # type: ignore[no-untyped-def]
    """bob trains in ml/vision and ml/nlp and links both models into reg/models/classifier."""
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp_path_factory.mktemp("links"))
    for name, value in (
        ("STRATA_ADDR", keys_server.addr),
        ("STRATA_QUIET", "1"),
        ("STRATA_API_KEY", keys["bob"]),
    ):
        mp.setenv(name, value)
    try:
        vision, vision_run = _train("vision", b"vision weights")
        nlp, nlp_run = _train("nlp", b"nlp weights")
        first = vision.link("reg/models/classifier", aliases=["candidate"])
        run = strata.init(entity="ml", project="nlp", job_type="promote")
        second = run.link_artifact(nlp, "reg/models/classifier", aliases=["candidate"])
        run.finish()
    finally:
        mp.undo()
    return {
        "vision": vision,
        "nlp": nlp,
        "vision_run": vision_run,
        "nlp_run": nlp_run,
        "first": first,
        "second": second,
    }


def _aliases(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    found = client.registry.ListAliases(pb.ListAliasesRequest(artifact=COLLECTION)).aliases
    return {a.alias: a.version.rsplit("/", 1)[1] for a in found}


def test_links_from_two_projects_get_their_own_versions_and_aliases(keys_server, keys, linked) -> None:  # type: ignore[no-untyped-def]
    first, second = linked["first"], linked["second"]
    assert first.qualified_name == "reg/models/classifier:v0"
    assert second.qualified_name == "reg/models/classifier:v1"
    assert first.linked_from == linked["vision"]._logged().name
    assert second.linked_from == linked["nlp"]._logged().name
    assert second.source_qualified_name == "ml/nlp/model:v0"
    with keys_server.client(keys["bob"]) as bob:
        assert _aliases(bob) == {"latest": "v1", "candidate": "v1"}
        again = bob.registry.LinkArtifactVersion(
            pb.LinkArtifactVersionRequest(source="ml/vision/model:v0", target=COLLECTION, aliases=["old"])
        )
        assert again.existing and again.version.name == f"{COLLECTION}/versions/v0"
        listed = bob.registry.ListArtifactVersions(pb.ListArtifactVersionsRequest(parent=COLLECTION))
        assert [v.version for v in listed.versions] == [1, 0]
        assert json.loads(listed.versions[1].metadata_json) == {"project": "vision"}


def test_production_is_protected_and_has_history(keys_server, keys, linked) -> None:  # type: ignore[no-untyped-def]
    with keys_server.client(keys["bob"]) as bob:
        with pytest.raises(StrataError) as e:
            bob.registry.LinkArtifactVersion(
                pb.LinkArtifactVersionRequest(
                    source="ml/vision/model:v0", target=COLLECTION, aliases=["production"]
                )
            )
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.PERMISSION_DENIED, Reason.PROTECTED_ALIAS)
        with pytest.raises(StrataError) as e:
            bob.registry.SetAlias(pb.SetAliasRequest(version=f"{COLLECTION}/versions/v0", alias="production"))
        assert e.value.reason == Reason.PROTECTED_ALIAS
    with keys_server.client(keys["rita"]) as rita:
        for n in (0, 1):
            rita.registry.SetAlias(
                pb.SetAliasRequest(version=f"{COLLECTION}/versions/v{n}", alias="production", reason=f"v{n}")
            )
        history = rita.registry.ListAliasHistory(
            pb.ListAliasHistoryRequest(artifact=COLLECTION, alias="production")
        ).events
        assert [(e.from_version.rsplit("/", 1)[-1], e.to_version.rsplit("/", 1)[-1]) for e in history] == [
            ("v0", "v1"),
            ("", "v0"),
        ]
        rita.registry.RevertAlias(pb.RevertAliasRequest(artifact=COLLECTION, alias="production"))
        assert _aliases(rita)["production"] == "v0"


def test_use_artifact_through_the_link_downloads_the_source_files(keys, linked, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user(keys["rita"])
    with strata.Client() as c:
        c.registry.SetAlias(pb.SetAliasRequest(version=f"{COLLECTION}/versions/v0", alias="production"))
    as_user(keys["carol"])  # reads the registry, not ml/vision
    run = strata.init(entity="reg", project="models", job_type="serve")
    prod = run.use_artifact("reg/models/classifier:production", type="model")
    folder = Path(prod.download("served"))
    assert (folder / "weights.bin").read_bytes() == b"vision weights"
    assert prod.qualified_name == "reg/models/classifier:v0"
    assert prod.linked_from == "entities/ml/projects/vision/artifacts/model/versions/v0"
    assert prod.source_name == "model:v0"
    run.finish()


def test_lineage_upstream_of_a_link_reaches_the_source_run_and_its_inputs(keys, linked, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user(keys["bob"])
    with strata.Client() as c:
        graph = lineage.upstream(c, f"{COLLECTION}/versions/v1", depth=4)
        assert linked["nlp_run"] in graph
        assert "entities/ml/projects/nlp/artifacts/data/versions/v0" in graph
        edge = next(e for e in graph.edges if e.target == f"{COLLECTION}/versions/v1")
        assert (edge.source, edge.kind) == (linked["nlp_run"], "linked")
        assert "linked from the output of" in graph_text(graph)
        down = lineage.downstream(c, linked["vision_run"], depth=1)
        assert f"{COLLECTION}/versions/v0" in down


@pytest.mark.parametrize(
    ("user", "source"),
    [
        ("carol", "ml/vision/model:v0"),  # writes the registry, cannot read the source
        ("val", "ml/vision/model:v0"),  # reads the source, only views the registry
    ],
)
def test_linking_needs_read_on_the_source_and_write_on_the_registry(
    keys_server, keys, linked, user, source
) -> None:  # type: ignore[no-untyped-def]
    with keys_server.client(keys[user]) as c:
        with pytest.raises(StrataError) as e:
            c.registry.LinkArtifactVersion(pb.LinkArtifactVersionRequest(source=source, target=COLLECTION))
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.PERMISSION_DENIED, Reason.PERMISSION_DENIED)
        assert (
            len(c.registry.ListArtifactVersions(pb.ListArtifactVersionsRequest(parent=COLLECTION)).versions)
            == 2
        )


def test_linking_is_audited(keys_server, linked) -> None:  # type: ignore[no-untyped-def]
    rows = [
        r
        for r in audit_rows(keys_server.thread, "artifact_version.link")
        if r["target"].startswith(COLLECTION)
    ]
    assert [r["target"].rsplit("/", 1)[1] for r in rows] == ["v0", "v1"]
    assert json.loads(rows[1]["after"])["source"] == "entities/ml/projects/nlp/artifacts/model/versions/v0"
    assert {r["actor_name"] for r in rows} == {"bob"}


def test_bad_link_requests_are_refused(keys_server, keys, linked) -> None:  # type: ignore[no-untyped-def]
    with keys_server.client(keys["bob"]) as bob:
        cases = [
            (pb.LinkArtifactVersionRequest(source="ml/vision/model:v9", target=COLLECTION), Reason.NOT_FOUND),
            (
                pb.LinkArtifactVersionRequest(source="ml//model", target=COLLECTION),
                Reason.INVALID_ARTIFACT_REF,
            ),
            (
                pb.LinkArtifactVersionRequest(source="ml/vision/data:v0", target=COLLECTION),
                Reason.ARTIFACT_TYPE_MISMATCH,
            ),
            (
                pb.LinkArtifactVersionRequest(
                    source="ml/vision/model:v0", target=COLLECTION, aliases=["latest"]
                ),
                Reason.RESERVED_ALIAS,
            ),
        ]
        for request, reason in cases:
            with pytest.raises(StrataError) as e:
                bob.registry.LinkArtifactVersion(request)
            assert e.value.reason == reason, request
        assert (
            len(bob.registry.ListArtifactVersions(pb.ListArtifactVersionsRequest(parent=COLLECTION)).versions)
            == 2
        )


def test_a_run_links_by_reference_and_a_link_of_a_link_points_at_the_source(keys, linked, as_user) -> None:  # type: ignore[no-untyped-def]
    as_user(keys["bob"])
    run = strata.init(entity="ml", project="vision", job_type="promote")
    staged = run.link_artifact("model:v0", "reg/models/staged")  # relative: in the run's project
    assert staged.linked_from == "entities/ml/projects/vision/artifacts/model/versions/v0"
    again = run.link_artifact("reg/models/classifier:v1", "reg/models/staged", aliases=["nlp"])
    assert again.qualified_name == "reg/models/staged:v1"
    assert again.linked_from == "entities/ml/projects/nlp/artifacts/model/versions/v0"  # not the link
    unlogged = strata.Artifact("fresh", type="model")
    unlogged.add_file(_write("fresh.bin", b"fresh"))
    fresh = run.link_artifact(unlogged, "reg/models/staged")  # logged first, then linked
    assert unlogged.qualified_name == "ml/vision/fresh:v0" and fresh.qualified_name == "reg/models/staged:v2"
    with pytest.raises(ValueError, match="registry/collection"):
        run.link_artifact("model:v0", "staged")
    run.finish()
