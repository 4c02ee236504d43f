"""Resource names and the grammars of user-chosen names, validated in one place.

Resource names (AIP-122 style):
  project   entities/{entity}/projects/{project}
  run       entities/{entity}/projects/{project}/runs/{run}
  artifact  entities/{entity}/projects/{project}/artifacts/{artifact}
  version   entities/{entity}/projects/{project}/artifacts/{artifact}/versions/v{N}
  draft     entities/{entity}/projects/{project}/artifacts/{artifact}/drafts/{draft_id}
  upload    entities/{entity}/projects/{project}/uploads/{upload_id}
Artifact references (what users type): name, name:latest, name:v3, name:alias, project/name:alias,
entity/project/name:alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidArgument, Reason

ENTITY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
PROJECT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
RUN_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
ARTIFACT_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
TYPE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
ALIAS_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
VERSION_ALIAS_RE = re.compile(r"^v(\d{1,12})$")
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
RESERVED_ALIASES = frozenset({"latest"})


def check(value: str, pattern: re.Pattern[str], field: str, what: str) -> str:
    if not value:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    if not pattern.fullmatch(value) or value in {".", ".."}:
        raise InvalidArgument(
            field, Reason.INVALID_NAME, f"{what} {value!r} does not match {pattern.pattern}"
        )
    return value


SHA256_RE = re.compile(r"[0-9a-f]{64}")


def check_sha256(value: str, field: str) -> str:
    """A blob digest: exactly 64 lowercase hex characters (INVALID_DIGEST otherwise)."""
    if not SHA256_RE.fullmatch(value):
        raise InvalidArgument(field, Reason.INVALID_DIGEST, f"{field} must be 64 lowercase hex characters")
    return value


@dataclass(frozen=True)
class ProjectName:
    entity: str
    project: str

    def __str__(self) -> str:
        return f"entities/{self.entity}/projects/{self.project}"

    @property
    def path(self) -> str:
        """The short form users type: entity/project."""
        return f"{self.entity}/{self.project}"


@dataclass(frozen=True)
class RunName:
    project: ProjectName
    run_id: str

    def __str__(self) -> str:
        return f"{self.project}/runs/{self.run_id}"


@dataclass(frozen=True)
class ArtifactName:
    project: ProjectName
    artifact: str

    def __str__(self) -> str:
        return f"{self.project}/artifacts/{self.artifact}"


@dataclass(frozen=True)
class VersionName:
    artifact: ArtifactName
    version: int | None  # None for drafts
    draft_id: str | None = None

    def __str__(self) -> str:
        if self.version is None:
            return f"{self.artifact}/drafts/{self.draft_id}"
        return f"{self.artifact}/versions/v{self.version}"


@dataclass(frozen=True)
class ChildName:
    """A project-scoped child resource with an opaque id (uploads/{id}, ...)."""

    project: ProjectName
    collection: str
    id: str

    def __str__(self) -> str:
        return f"{self.project}/{self.collection}/{self.id}"


def _split(value: str, field: str, expected: int, what: str) -> list[str]:
    if not value:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    parts = value.split("/")
    if len(parts) != expected:
        raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} {value!r} is not a {what} resource name")
    return parts


def parse_entity(value: str, field: str = "parent") -> str:
    parts = _split(value, field, 2, "entity")
    if parts[0] != "entities":
        raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} must look like entities/{{entity}}")
    return check(parts[1], ENTITY_RE, field, "entity")


def parse_project(value: str, field: str = "parent") -> ProjectName:
    parts = _split(value, field, 4, "project")
    if parts[0] != "entities" or parts[2] != "projects":
        raise InvalidArgument(
            field, Reason.INVALID_NAME, f"{field} must look like entities/{{entity}}/projects/{{project}}"
        )
    return ProjectName(
        check(parts[1], ENTITY_RE, field, "entity"), check(parts[3], PROJECT_RE, field, "project")
    )


def _project_child(value: str, field: str, collection: str, expected: int) -> tuple[ProjectName, list[str]]:
    parts = _split(value, field, expected, collection.rstrip("s"))
    if parts[4] != collection:
        raise InvalidArgument(
            field,
            Reason.INVALID_NAME,
            f"{field} must look like entities/{{e}}/projects/{{p}}/{collection}/...",
        )
    return parse_project("/".join(parts[:4]), field), parts[5:]


def parse_run(value: str, field: str = "name") -> RunName:
    project, rest = _project_child(value, field, "runs", 6)
    return RunName(project, check(rest[0], RUN_ID_RE, field, "run id"))


def parse_artifact(value: str, field: str = "artifact") -> ArtifactName:
    project, rest = _project_child(value, field, "artifacts", 6)
    return ArtifactName(project, check(rest[0], ARTIFACT_RE, field, "artifact name"))


def parse_version(value: str, field: str = "name", *, allow_draft: bool = True) -> VersionName:
    project, rest = _project_child(value, field, "artifacts", 8)
    artifact = ArtifactName(project, check(rest[0], ARTIFACT_RE, field, "artifact name"))
    if rest[1] == "versions":
        m = VERSION_ALIAS_RE.fullmatch(rest[2])
        if not m:
            raise InvalidArgument(field, Reason.INVALID_NAME, f"{field}: version must look like v3")
        return VersionName(artifact, int(m.group(1)))
    if rest[1] == "drafts" and allow_draft:
        return VersionName(artifact, None, check(rest[2], ID_RE, field, "draft id"))
    raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} {value!r} is not an artifact version name")


def parse_child(value: str, collection: str, field: str = "name") -> ChildName:
    project, rest = _project_child(value, field, collection, 6)
    return ChildName(project, collection, check(rest[0], ID_RE, field, "id"))


def check_alias(alias: str, field: str = "alias") -> str:
    """A custom alias: not 'latest', not 'vN'."""
    check(alias, ALIAS_RE, field, "alias")
    if alias in RESERVED_ALIASES or VERSION_ALIAS_RE.fullmatch(alias):
        raise InvalidArgument(field, Reason.RESERVED_ALIAS, f"alias {alias!r} is reserved")
    return alias


@dataclass(frozen=True)
class ArtifactRef:
    """A parsed user reference. Exactly one of `version` / `alias` is set (alias defaults to 'latest')."""

    artifact: ArtifactName
    version: int | None
    alias: str | None


def parse_artifact_ref(ref: str, default_project: ProjectName | None, field: str = "ref") -> ArtifactRef:
    if not ref:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    if ref.startswith("entities/"):  # a full resource name is a reference too
        if "/versions/" in ref:
            v = parse_version(ref, field, allow_draft=False)
            return ArtifactRef(v.artifact, v.version, None)
        return ArtifactRef(parse_artifact(ref, field), None, "latest")
    path, colon, selector = ref.partition(":")
    parts = path.split("/")
    if any(not part for part in parts) or (colon and not selector):
        raise InvalidArgument(
            field,
            Reason.INVALID_ARTIFACT_REF,
            f"{field} {ref!r} must look like [[entity/]project/]name[:alias]",
        )
    if len(parts) == 3:
        project = ProjectName(
            check(parts[0], ENTITY_RE, field, "entity"), check(parts[1], PROJECT_RE, field, "project")
        )
    elif len(parts) == 2:
        if default_project is None:
            raise InvalidArgument(field, Reason.INVALID_ARTIFACT_REF, f"{field} {ref!r} needs an entity")
        project = ProjectName(default_project.entity, check(parts[0], PROJECT_RE, field, "project"))
    elif len(parts) == 1:
        if default_project is None:
            raise InvalidArgument(field, Reason.INVALID_ARTIFACT_REF, f"{field} {ref!r} needs entity/project")
        project = default_project
    else:
        raise InvalidArgument(
            field,
            Reason.INVALID_ARTIFACT_REF,
            f"{field} {ref!r} must look like [[entity/]project/]name[:alias]",
        )
    artifact = ArtifactName(project, check(parts[-1], ARTIFACT_RE, field, "artifact name"))
    selector = selector or "latest"
    m = VERSION_ALIAS_RE.fullmatch(selector)
    if m:
        return ArtifactRef(artifact, int(m.group(1)), None)
    if not ALIAS_RE.fullmatch(selector):
        raise InvalidArgument(
            field, Reason.INVALID_ARTIFACT_REF, f"{field}: bad version or alias {selector!r}"
        )
    return ArtifactRef(artifact, None, selector)
