"""The per-RPC permission table: every RPC of every service, and what the caller needs to call it.

The interceptor (common/interceptors.py) looks every call up here before the handler runs; an RPC missing from
the table is refused, and tests/test_schema_and_rules.py and tests/iam/test_matrix.py fail when a
service defines an RPC without an entry. For streaming requests the check runs on the first message
(StreamMetrics `open`, UploadChunks `session`). A resource path names the request field holding the
resource name that decides the project, team or entity (`runs[]` for a repeated field); `ref:` fields
hold artifact references (relative ones resolve in the request's `default_parent`, else in the project
of the rule's first resource). The first check's resource is required; later checks apply when their
field is set. Every value of every check must pass (keys.KeysAuthorizer; role rules: roles.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Access(enum.Enum):
    PUBLIC = "public"  # no credentials needed (health, reflection)
    AUTHENTICATED = "authenticated"  # any valid principal; the handler narrows what it returns
    PROJECT_READ = "project_read"  # viewer of the project's entity, or the project is public-read
    PROJECT_WRITE = "project_write"  # member (creating the project on first use needs write on the entity)
    PROJECT_ADMIN = "project_admin"  # admin of the project's entity
    ENTITY_WRITE = "entity_write"  # may create projects in the entity
    TEAM_READ = "team_read"  # any member of the team
    TEAM_ADMIN = "team_admin"  # admin of the team
    KEY_OWNER = "key_owner"  # the caller itself, or a team admin for a service account
    AUDIT_READ = "audit_read"  # admin of the filter's project / entity; no filter: server admin
    SERVER_ADMIN = "server_admin"


@dataclass(frozen=True)
class Check:
    access: Access
    field: str | None = None  # request field with the resource name (dotted path; "[]" = every element)


@dataclass(frozen=True)
class Rule:
    checks: tuple[Check, ...]
    mutating: bool = False  # informational: mutating RPCs write an audit record

    @property
    def primary(self) -> Check:
        return self.checks[0]


def _r(access: Access, field: str | None = None, *more: Check, mutating: bool = False) -> Rule:
    return Rule((Check(access, field), *more), mutating=mutating)


def _w(access: Access, field: str | None = None, *more: Check) -> Rule:
    return _r(access, field, *more, mutating=True)


A = Access
INGEST = "/strata.ingest.v1.IngestService/"
REGISTRY = "/strata.registry.v1.RegistryService/"
LINEAGE = "/strata.lineage.v1.LineageService/"
QUERY = "/strata.query.v1.QueryService/"
IAM = "/strata.iam.v1.IamService/"
REPORTS = "/strata.reports.v1.ReportsService/"

RULES: dict[str, Rule] = {
    # --- ingest ---
    INGEST + "CreateRun": _w(A.PROJECT_WRITE, "parent"),
    INGEST + "GetRun": _r(A.PROJECT_READ, "name"),
    INGEST + "UpdateRun": _w(A.PROJECT_WRITE, "run.name"),
    INGEST + "FinishRun": _w(A.PROJECT_WRITE, "name"),
    INGEST + "DeleteRun": _w(A.PROJECT_ADMIN, "name"),
    INGEST + "SendHeartbeat": _r(A.PROJECT_WRITE, "name"),
    INGEST + "StreamMetrics": _r(A.PROJECT_WRITE, "open.run"),
    INGEST + "FindMissingBlobs": _r(A.PROJECT_WRITE, "parent"),
    INGEST + "ProveBlobPossession": _r(A.PROJECT_WRITE, "parent"),
    INGEST + "BatchUploadBlobs": _r(A.PROJECT_WRITE, "parent"),
    INGEST + "CreateUploadSession": _r(A.PROJECT_WRITE, "parent"),
    INGEST + "GetUploadSession": _r(A.PROJECT_WRITE, "name"),
    INGEST + "UploadChunks": _r(A.PROJECT_WRITE, "session"),
    INGEST + "CommitUpload": _r(A.PROJECT_WRITE, "name"),
    INGEST + "AbortUpload": _r(A.PROJECT_WRITE, "name"),
    INGEST + "AddRunFiles": _w(A.PROJECT_WRITE, "run"),
    INGEST + "ListRunFiles": _r(A.PROJECT_READ, "run"),
    INGEST + "ReadRunFile": _r(A.PROJECT_READ, "run"),
    INGEST + "AddMediaEntries": _w(A.PROJECT_WRITE, "run"),
    # --- registry ---
    REGISTRY + "CreateArtifactVersion": _r(
        A.PROJECT_WRITE, "parent", Check(A.PROJECT_WRITE, "run"), Check(A.PROJECT_READ, "ref:base_version")
    ),
    REGISTRY + "AppendManifestEntries": _r(A.PROJECT_WRITE, "draft"),
    REGISTRY + "CommitArtifactVersion": _w(A.PROJECT_WRITE, "draft"),
    REGISTRY + "GetArtifactVersion": _r(A.PROJECT_READ, "name"),
    REGISTRY + "ResolveArtifactVersion": _r(A.PROJECT_READ, "ref:ref"),
    REGISTRY + "UseArtifactVersion": _w(A.PROJECT_WRITE, "run", Check(A.PROJECT_READ, "ref:ref")),
    REGISTRY + "GetArtifact": _r(A.PROJECT_READ, "name"),
    REGISTRY + "ListArtifacts": _r(A.PROJECT_READ, "parent"),
    REGISTRY + "ListArtifactVersions": _r(A.PROJECT_READ, "parent"),
    REGISTRY + "ListManifestEntries": _r(A.PROJECT_READ, "version"),
    REGISTRY + "UpdateArtifactVersion": _w(A.PROJECT_WRITE, "version.name"),
    REGISTRY + "DeleteArtifactVersion": _w(A.PROJECT_ADMIN, "name"),
    REGISTRY + "SetAlias": _w(A.PROJECT_WRITE, "version"),
    REGISTRY + "RemoveAlias": _w(A.PROJECT_WRITE, "artifact"),
    REGISTRY + "ListAliases": _r(A.PROJECT_READ, "artifact"),
    REGISTRY + "ListAliasHistory": _r(A.PROJECT_READ, "artifact"),
    REGISTRY + "RevertAlias": _w(A.PROJECT_WRITE, "artifact"),
    REGISTRY + "WatchAlias": _r(A.PROJECT_READ, "artifact"),
    REGISTRY + "ReadBlob": _r(A.PROJECT_READ, "version"),
    REGISTRY + "BatchReadBlobs": _r(A.PROJECT_READ, "version"),
    REGISTRY + "LinkArtifactVersion": _w(A.PROJECT_WRITE, "target", Check(A.PROJECT_READ, "ref:source")),
    REGISTRY + "RunGarbageCollection": _w(A.SERVER_ADMIN),
    REGISTRY + "GetStorageUsage": _r(A.PROJECT_READ, "parent"),
    # --- lineage ---
    LINEAGE + "TraceUpstream": _r(A.PROJECT_READ, "ref:node"),
    LINEAGE + "TraceDownstream": _r(A.PROJECT_READ, "ref:node"),
    LINEAGE + "AnalyzeImpact": _r(A.PROJECT_READ, "ref:node"),
    LINEAGE + "DiffArtifactVersions": _r(
        A.PROJECT_READ, "ref:old_version", Check(A.PROJECT_READ, "ref:new_version")
    ),
    LINEAGE + "ExportLineageGraph": _r(A.PROJECT_READ, "ref:node"),
    LINEAGE + "CreateLineageEdge": _w(A.PROJECT_WRITE, "run", Check(A.PROJECT_READ, "ref:version")),
    # --- query ---
    QUERY + "SearchRuns": _r(A.PROJECT_READ, "parent"),
    QUERY + "CountRuns": _r(A.PROJECT_READ, "parent"),
    QUERY + "GroupRuns": _r(A.PROJECT_READ, "parent"),
    QUERY + "ListMetricKeys": _r(A.PROJECT_READ, "run"),
    QUERY + "GetHistory": _r(A.PROJECT_READ, "run"),
    QUERY + "ScanHistory": _r(A.PROJECT_READ, "run"),
    QUERY + "BatchGetHistory": _r(A.PROJECT_READ, "runs[]"),
    QUERY + "AggregateHistory": _r(A.PROJECT_READ, "parent"),
    QUERY + "ListMediaKeys": _r(A.PROJECT_READ, "run"),
    QUERY + "ListMedia": _r(A.PROJECT_READ, "run"),
    QUERY + "GetMediaTable": _r(A.PROJECT_READ, "run"),
    QUERY + "ReadMedia": _r(A.PROJECT_READ, "run"),
    # --- iam ---
    IAM + "GetPrincipal": _r(A.AUTHENTICATED),
    IAM + "CreateUser": _w(A.SERVER_ADMIN),
    IAM + "ListUsers": _r(A.SERVER_ADMIN),
    IAM + "CreateTeam": _w(A.AUTHENTICATED),
    IAM + "GetTeam": _r(A.TEAM_READ, "name"),
    IAM + "ListTeams": _r(A.AUTHENTICATED),
    IAM + "AddTeamMember": _w(A.TEAM_ADMIN, "team"),
    IAM + "UpdateTeamMember": _w(A.TEAM_ADMIN, "team"),
    IAM + "RemoveTeamMember": _w(A.TEAM_ADMIN, "team"),
    IAM + "ListTeamMembers": _r(A.TEAM_READ, "team"),
    IAM + "CreateServiceAccount": _w(A.TEAM_ADMIN, "parent"),
    IAM + "ListServiceAccounts": _r(A.TEAM_READ, "parent"),
    IAM + "CreateApiKey": _w(A.KEY_OWNER, "owner"),
    IAM + "ListApiKeys": _r(A.KEY_OWNER, "owner"),
    IAM + "RevokeApiKey": _w(A.KEY_OWNER, "name"),
    IAM + "CreateProject": _w(A.ENTITY_WRITE, "parent"),
    IAM + "GetProject": _r(A.PROJECT_READ, "name"),
    IAM + "ListProjects": _r(A.AUTHENTICATED),
    IAM + "UpdateProject": _w(A.PROJECT_ADMIN, "project.name"),
    IAM + "ListAuditEvents": _r(A.AUDIT_READ, "filter.project", Check(A.AUDIT_READ, "filter.entity")),
    IAM + "ExportAuditEvents": _r(A.AUDIT_READ, "filter.project", Check(A.AUDIT_READ, "filter.entity")),
    # --- reports ---
    REPORTS + "CreateReport": _w(A.PROJECT_WRITE, "parent"),
    REPORTS + "GetReport": _r(A.PROJECT_READ, "name"),
    REPORTS + "UpdateReport": _w(A.PROJECT_WRITE, "report.name"),
    REPORTS + "ListReports": _r(A.PROJECT_READ, "parent"),
    REPORTS + "DeleteReport": _w(A.PROJECT_ADMIN, "name"),
    REPORTS + "ListReportRevisions": _r(A.PROJECT_READ, "parent"),
    REPORTS + "GetReportRevision": _r(A.PROJECT_READ, "name"),
    REPORTS + "RevertReport": _w(A.PROJECT_WRITE, "name"),
    # the projects a panel's runsets name are checked by the reports service when it reads them
    REPORTS + "GetPanelData": _r(A.PROJECT_READ, "report"),
    # --- infrastructure ---
    "/grpc.health.v1.Health/Check": _r(A.PUBLIC),
    "/grpc.health.v1.Health/Watch": _r(A.PUBLIC),
    "/grpc.health.v1.Health/List": _r(A.PUBLIC),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": _r(A.PUBLIC),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": _r(A.PUBLIC),
}


def resource_values(request: object, field: str) -> list[str]:
    """Read a dotted field path ('run.name', 'runs[]', 'ref:node') from a request message."""
    path = field.split(":", 1)[-1]
    if "." not in path and not path.endswith("]"):  # the common case: one plain field
        value = getattr(request, path, None)
        return [value] if isinstance(value, str) and value else []
    values: list[object] = [request]
    for part in path.split("."):
        repeated = part.endswith("[]")
        name = part[:-2] if repeated else part
        nxt: list[object] = []
        for v in values:
            got = getattr(v, name, None)
            if got is None:
                continue
            if repeated:
                nxt.extend(got)
            else:
                nxt.append(got)
        values = nxt
    return [v for v in values if isinstance(v, str) and v]
