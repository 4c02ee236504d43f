"""Resource names and artifact references: what parses, and the stable reason for what does not."""

from __future__ import annotations

import pytest
from strata.errors import Reason
from strata_server.common.errors import InvalidArgument
from strata_server.common.names import (
    ProjectName,
    check_alias,
    check_sha256,
    parse_artifact_ref,
    parse_project,
    parse_run,
    parse_version,
)
from strata_server.ingest.metrics.limits import check_key

HOME = ProjectName("ml-research", "text-classifier")


def test_resource_names_round_trip() -> None:
    assert (
        str(parse_project("entities/ml-research/projects/text-classifier"))
        == "entities/ml-research/projects/text-classifier"
    )
    run = parse_run("entities/e/projects/p/runs/abc123")
    assert (run.project.entity, run.project.project, run.run_id) == ("e", "p", "abc123")
    v = parse_version("entities/e/projects/p/artifacts/bert/versions/v12")
    assert (v.artifact.artifact, v.version) == ("bert", 12)
    d = parse_version("entities/e/projects/p/artifacts/bert/drafts/d1")
    assert (d.version, d.draft_id) == (None, "d1")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("bert", ("ml-research", "text-classifier", "bert", None, "latest")),
        ("bert:latest", ("ml-research", "text-classifier", "bert", None, "latest")),
        ("bert:v3", ("ml-research", "text-classifier", "bert", 3, None)),
        ("bert:production", ("ml-research", "text-classifier", "bert", None, "production")),
        ("other/bert:staging", ("ml-research", "other", "bert", None, "staging")),
        ("team-a/pretraining/bert-base:latest", ("team-a", "pretraining", "bert-base", None, "latest")),
        ("entities/e/projects/p/artifacts/m/versions/v7", ("e", "p", "m", 7, None)),
    ],
)
def test_artifact_reference_grammar(ref: str, expected: tuple) -> None:
    r = parse_artifact_ref(ref, HOME)
    got = (r.artifact.project.entity, r.artifact.project.project, r.artifact.artifact, r.version, r.alias)
    assert got == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", Reason.FIELD_REQUIRED),
        ("entities/e/projects", Reason.INVALID_NAME),
        ("entities/e/projects/bad name", Reason.INVALID_NAME),
        ("entities/../projects/p", Reason.INVALID_NAME),
        ("teams/e/projects/p", Reason.INVALID_NAME),
        ("entities/e/projects/" + "x" * 129, Reason.INVALID_NAME),
    ],
)
def test_bad_project_names_name_the_field_and_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_project(value, "parent")
    assert (e.value.field, e.value.reason) == ("parent", reason)


@pytest.mark.parametrize("ref", ["a/b/c/d:x", "bert:has space", "bert:", "/bert"])
def test_bad_references_are_rejected(ref: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_artifact_ref(ref, HOME)
    assert e.value.reason in {Reason.INVALID_ARTIFACT_REF, Reason.INVALID_NAME}


@pytest.mark.parametrize("alias", ["latest", "v3", "v0"])
def test_reserved_aliases_cannot_be_set(alias: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        check_alias(alias)
    assert e.value.reason == Reason.RESERVED_ALIAS


@pytest.mark.parametrize(
    "check",
    [
        lambda: parse_project("entities/ml\n/projects/p", "parent"),
        lambda: parse_run("entities/e/projects/p/runs/r1\n", "run"),
        lambda: parse_artifact_ref("model:prod\n", HOME, "ref"),
        lambda: check_alias("staging\n", "alias"),
        lambda: check_sha256("a" * 64 + "\n", "sha256"),
        lambda: check_key("loss\n", "keys[0]"),
    ],
    ids=["entity", "run", "alias-ref", "alias", "sha256", "metric-key"],
)
def test_a_trailing_newline_is_not_part_of_a_valid_name(check) -> None:  # type: ignore[no-untyped-def]
    """Grammars are matched against the whole value (a `$` anchor alone lets "name\\n" through)."""
    with pytest.raises(InvalidArgument):
        check()
