"""The iam service in keys mode: teams and roles, service-account scopes, projects and what callers
can see of them, the audit log (exactly when committed, append-only, filters, export), and the hooks
other services call (require, readable_project_ids)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import duration_pb2, field_mask_pb2
from strata.common.v1 import actor_pb2
from strata.errors import StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata_server.common import audit
from strata_server.common.auth.policy import Access
from strata_server.common.names import ProjectName
from strata_server.common.projects import ensure_project

from tests.fixtures.iam import KeysServer

ADMIN, MEMBER, VIEWER = iam_pb2.ROLE_ADMIN, iam_pb2.ROLE_MEMBER, iam_pb2.ROLE_VIEWER


def code_reason(fn: Any, *args: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(StrataError) as e:
        fn(*args)
    return e.value.code, e.value.reason


def audit_count(ks: KeysServer) -> int:
    async def go() -> int:
        async with ks.deps.pool.acquire() as conn:
            return await conn.fetchval("SELECT count(*) FROM audit_events")

    return ks.run(go())


@pytest.fixture(scope="module")
def lab(keys_server: KeysServer) -> Iterator[dict[str, Any]]:
    """Team lab (admin ada, member max, viewer vic), outsider oz; projects lab/vision (private),
    lab/audio (private), lab/demo (public); service accounts lab/ci (limited to vision), lab/ops."""
    ks = keys_server
    keys = {name: ks.user(name) for name in ("ada", "max", "vic", "oz")}
    ks.team("lab", admin=keys["ada"], members={"max": MEMBER, "vic": VIEWER})
    for name, public in (("vision", False), ("audio", False), ("demo", True)):
        ks.project("lab", name, as_key=keys["ada"], public=public)
    keys["ci"] = ks.service_account(
        "lab", "ci", projects=["entities/lab/projects/vision"], as_key=keys["ada"]
    )
    keys["ops"] = ks.service_account("lab", "ops", as_key=keys["ada"])
    clients = {name: ks.client(key) for name, key in keys.items()}
    clients["root"] = ks.client()
    yield clients
    for c in clients.values():
        c.close()


def project_names(client: Any, parent: str = "entities/lab") -> list[str]:
    return [
        p.name.rsplit("/", 1)[1]
        for p in client.iam.ListProjects(iam.ListProjectsRequest(parent=parent)).projects
    ]


# --- teams and roles ---


def test_team_membership_lifecycle_keeps_an_admin_and_is_audited(keys_server: KeysServer, lab: dict) -> None:
    """Add, change role, remove; the last admin can be neither demoted nor removed (LAST_TEAM_ADMIN),
    and only committed changes leave audit events."""
    ks, ada = keys_server, lab["ada"]
    ks.user("newbie")
    team, user = "entities/lab", "entities/newbie"
    before = audit_count(ks)
    added = ada.iam.AddTeamMember(iam.AddTeamMemberRequest(team=team, user=user, role=VIEWER)).member
    assert (added.team, added.user, added.role) == (team, user, VIEWER)
    assert code_reason(
        ada.iam.AddTeamMember, iam.AddTeamMemberRequest(team=team, user=user, role=VIEWER)
    ) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "ALREADY_EXISTS",
    )
    assert (
        ada.iam.UpdateTeamMember(iam.UpdateTeamMemberRequest(team=team, user=user, role=ADMIN)).member.role
        == ADMIN
    )
    ada.iam.RemoveTeamMember(iam.RemoveTeamMemberRequest(team=team, user=user))
    members = {m.user: m.role for m in ada.iam.ListTeamMembers(iam.ListTeamMembersRequest(team=team)).members}
    assert members == {"entities/ada": ADMIN, "entities/max": MEMBER, "entities/vic": VIEWER}
    assert audit_count(ks) == before + 3
    demote = iam.UpdateTeamMemberRequest(team=team, user="entities/ada", role=MEMBER)
    assert code_reason(ada.iam.UpdateTeamMember, demote) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LAST_TEAM_ADMIN",
    )
    remove = iam.RemoveTeamMemberRequest(team=team, user="entities/ada")
    assert code_reason(ada.iam.RemoveTeamMember, remove) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "LAST_TEAM_ADMIN",
    )
    missing = iam.AddTeamMemberRequest(team=team, user="entities/ghost", role=VIEWER)
    assert code_reason(ada.iam.AddTeamMember, missing)[0] == grpc.StatusCode.NOT_FOUND
    assert audit_count(ks) == before + 3  # failed actions leave no audit event


def test_members_cannot_manage_the_team(lab: dict) -> None:
    request = iam.AddTeamMemberRequest(team="entities/lab", user="entities/oz", role=ADMIN)
    for who in ("max", "vic", "ops", "oz"):
        assert code_reason(lab[who].iam.AddTeamMember, request)[0] == grpc.StatusCode.PERMISSION_DENIED


def test_list_teams_shows_the_callers_teams(lab: dict) -> None:
    assert [t.name for t in lab["max"].iam.ListTeams(iam.ListTeamsRequest()).teams] == ["entities/lab"]
    assert [t.name for t in lab["oz"].iam.ListTeams(iam.ListTeamsRequest()).teams] == []
    assert [t.name for t in lab["ci"].iam.ListTeams(iam.ListTeamsRequest()).teams] == ["entities/lab"]


# --- projects ---


def test_callers_see_only_the_projects_they_may_read(lab: dict) -> None:
    """Members see all of the team's projects; outsiders only public ones; a limited service account
    its projects plus public ones; a missing entity lists as empty (no existence probe)."""
    assert project_names(lab["vic"]) == ["audio", "demo", "vision"]
    assert project_names(lab["oz"]) == ["demo"]
    assert project_names(lab["ci"]) == ["demo", "vision"]
    assert project_names(lab["ops"]) == ["audio", "demo", "vision"]
    assert project_names(lab["oz"], "entities/nobody") == []
    get = lab["oz"].iam.GetProject
    assert get(iam.GetProjectRequest(name="entities/lab/projects/demo")).project.visibility == 2
    assert code_reason(get, iam.GetProjectRequest(name="entities/lab/projects/audio"))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )


def test_a_limited_service_account_stays_in_its_projects(lab: dict) -> None:
    """lab/ci reads and writes lab/vision only, reads public projects, and creates no projects."""
    ci = lab["ci"]
    assert ci.iam.GetProject(iam.GetProjectRequest(name="entities/lab/projects/vision")).project.name
    audio = iam.GetProjectRequest(name="entities/lab/projects/audio")
    assert code_reason(ci.iam.GetProject, audio)[0] == grpc.StatusCode.PERMISSION_DENIED
    create = iam.CreateProjectRequest(parent="entities/lab", project_id="ci-made")
    assert code_reason(ci.iam.CreateProject, create)[0] == grpc.StatusCode.PERMISSION_DENIED
    made = lab["ops"].iam.CreateProject(
        iam.CreateProjectRequest(parent="entities/lab", project_id="ops-made")
    )
    assert made.project.name == "entities/lab/projects/ops-made"


def test_update_project_settings_with_a_mask(keys_server: KeysServer, lab: dict) -> None:
    """Admins change description, visibility, default TTL and protected aliases; the audit event holds
    before/after; making a project public lets outsiders read it at once."""
    name = "entities/lab/projects/audio"
    settings = iam_pb2.Project(
        name=name,
        description="speech",
        visibility=iam_pb2.PROJECT_VISIBILITY_PUBLIC_READ,
        default_ttl=duration_pb2.Duration(seconds=86400),
        protected_aliases=["production"],
    )
    mask = field_mask_pb2.FieldMask(paths=["description", "visibility", "default_ttl", "protected_aliases"])
    request = iam.UpdateProjectRequest(project=settings, update_mask=mask)
    assert code_reason(lab["max"].iam.UpdateProject, request)[0] == grpc.StatusCode.PERMISSION_DENIED
    updated = lab["ada"].iam.UpdateProject(request).project
    assert (updated.description, updated.default_ttl.seconds, list(updated.protected_aliases)) == (
        "speech",
        86400,
        ["production"],
    )
    assert lab["oz"].iam.GetProject(iam.GetProjectRequest(name=name)).project.description == "speech"
    events = (
        lab["ada"]
        .iam.ListAuditEvents(
            iam.ListAuditEventsRequest(filter=iam.AuditFilter(project=name, actions=["project.update"]))
        )
        .events
    )
    assert len(events) == 1 and events[0].actor.name == "ada" and events[0].project == name
    assert json.loads(events[0].before_json)["visibility"] == "private"
    assert json.loads(events[0].after_json) == {
        "default_ttl": 86400.0,
        "description": "speech",
        "protected_aliases": ["production"],
        "visibility": "public_read",
    }
    bad = iam.UpdateProjectRequest(project=settings, update_mask=field_mask_pb2.FieldMask(paths=["name"]))
    assert code_reason(lab["ada"].iam.UpdateProject, bad) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_UPDATE_MASK",
    )
    private = iam.UpdateProjectRequest(
        project=iam_pb2.Project(name=name, visibility=iam_pb2.PROJECT_VISIBILITY_PRIVATE),
        update_mask=field_mask_pb2.FieldMask(paths=["visibility"]),
    )
    lab["ada"].iam.UpdateProject(private)
    assert code_reason(lab["oz"].iam.GetProject, iam.GetProjectRequest(name=name))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )


# --- the audit log ---


def test_audit_events_are_filtered_paged_and_scoped(lab: dict) -> None:
    """Team admins read their entity's events (member changes included), nobody else's; the whole log
    needs a server admin; pages are newest first and do not overlap."""
    ada, root = lab["ada"], lab["root"]
    mine = ada.iam.ListAuditEvents(
        iam.ListAuditEventsRequest(filter=iam.AuditFilter(entity="entities/lab"))
    ).events
    actions = {e.action for e in mine}
    assert {"team.create", "team_member.add", "project.create", "service_account.create"} <= actions
    assert (
        code_reason(ada.iam.ListAuditEvents, iam.ListAuditEventsRequest())[0]
        == grpc.StatusCode.PERMISSION_DENIED
    )
    other = iam.ListAuditEventsRequest(filter=iam.AuditFilter(entity="entities/oz"))
    assert code_reason(ada.iam.ListAuditEvents, other)[0] == grpc.StatusCode.PERMISSION_DENIED
    by_actor = root.iam.ListAuditEvents(
        iam.ListAuditEventsRequest(filter=iam.AuditFilter(actor="ada"))
    ).events
    assert by_actor and {e.actor.name for e in by_actor} == {"ada"}
    seen, token = [], ""
    while True:
        page = root.iam.ListAuditEvents(iam.ListAuditEventsRequest(page_size=3, page_token=token))
        seen += [e.id for e in page.events]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) > 6
    exported = [
        e.id for page in root.iam.ExportAuditEvents(iam.ExportAuditEventsRequest()) for e in page.events
    ]
    assert exported == sorted(seen)
    start = by_actor[-1].create_time
    since = root.iam.ListAuditEvents(
        iam.ListAuditEventsRequest(filter=iam.AuditFilter(actor="ada", start_time=start))
    ).events
    assert [e.id for e in since] == [e.id for e in by_actor]


def test_the_audit_log_is_append_only_and_written_with_its_action(keys_server: KeysServer, lab: dict) -> None:
    """UPDATE, DELETE and TRUNCATE are refused; an event recorded in a transaction that rolls back is
    gone with it, one created with a project on first use exists with it."""

    async def go() -> tuple[int, int]:
        async with keys_server.deps.pool.acquire() as conn:
            for sql in (
                "UPDATE audit_events SET action = 'x'",
                "DELETE FROM audit_events",
                "TRUNCATE audit_events",
            ):
                with pytest.raises(asyncpg.RaiseError, match="append-only"):
                    await conn.execute(sql)
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await audit.record(conn, "test.rolled_back", target="nothing")
                    raise RuntimeError("the action failed")
            rolled_back = await conn.fetchval(
                "SELECT count(*) FROM audit_events WHERE action = 'test.rolled_back'"
            )
            async with conn.transaction():
                await ensure_project(conn, ProjectName("lab", "first-use"), create_entity=False)
            created = await conn.fetchval(
                "SELECT count(*) FROM audit_events WHERE action = 'project.create' AND target = $1",
                "entities/lab/projects/first-use",
            )
            return rolled_back, created

    assert keys_server.run(go()) == (0, 1)


# --- the hooks other services call ---


def test_readable_project_ids_filters_by_caller(keys_server: KeysServer, lab: dict) -> None:
    """What lineage and search use to drop nodes and rows of projects the caller cannot read."""
    ks = keys_server
    ks.project("oz", "home", as_key=None)  # oz's personal project (created by the server admin)

    async def go() -> dict[str, set[str]]:
        authz = ks.deps.authorizer
        async with ks.deps.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT p.id, e.name || '/' || p.name AS name FROM projects p JOIN entities e ON e.id = p.entity_id"
            )
        names = {r["id"]: r["name"] for r in rows}
        out = {}
        for who in ("max", "oz", "ci"):
            principal = await authz.authenticate({"authorization": f"Bearer {lab[who].api_key}"}, "")
            out[who] = {names[i] for i in await authz.readable_project_ids(principal, list(names))}
            authz.invalidate()
            async with ks.deps.pool.acquire() as conn:  # a caller holding a connection lends it
                lent = await authz.readable_project_ids(principal, set(names), conn=conn)
            assert {names[i] for i in lent} == out[who]
        return out

    seen = ks.run(go())
    assert {"lab/vision", "lab/audio", "lab/demo"} <= seen["max"] and "oz/home" not in seen["max"]
    assert "oz/home" in seen["oz"] and "lab/demo" in seen["oz"]
    assert not {"lab/vision", "lab/audio"} & seen["oz"]
    assert "lab/vision" in seen["ci"] and "lab/audio" not in seen["ci"] and "lab/demo" in seen["ci"]


def test_require_decides_like_the_table(keys_server: KeysServer, lab: dict) -> None:
    """E.g. moving a protected alias: PROJECT_ADMIN on the project."""
    ks = keys_server

    async def go(who: str) -> str:
        authz = ks.deps.authorizer
        principal = await authz.authenticate({"authorization": f"Bearer {lab[who].api_key}"}, "")
        try:
            await authz.require(principal, Access.PROJECT_ADMIN, "entities/lab/projects/vision/artifacts/m")
            return "allowed"
        except Exception as e:
            return type(e).__name__

    assert [ks.run(go(w)) for w in ("ada", "max", "oz", "ci")] == [
        "allowed",
        "PermissionDenied",
        "PermissionDenied",
        "PermissionDenied",
    ]


def test_open_local_mode_acts_as_the_local_user(postgres: Any, tmp_path: Any) -> None:
    """Without keys, the local user owns what it creates: a team it creates has it as admin, and it may
    mint keys (for a later switch to keys mode)."""
    from tests.fixtures.servers import ServerThread, make_settings

    srv = ServerThread(make_settings(tmp_path, postgres.create_database())).start()
    try:
        with srv.client(api_key="") as c:
            me = c.iam.GetPrincipal(iam.GetPrincipalRequest())
            c.iam.CreateTeam(iam.CreateTeamRequest(team=iam_pb2.Team(name="entities/solo")))
            members = c.iam.ListTeamMembers(iam.ListTeamMembersRequest(team="entities/solo")).members
            key = c.iam.CreateApiKey(iam.CreateApiKeyRequest(description="for later")).api_key
    finally:
        srv.stop()
    assert me.server_admin and me.actor.kind == actor_pb2.ACTOR_KIND_LOCAL
    assert [(m.user, m.role) for m in members] == [(f"entities/{me.actor.name}", ADMIN)]
    assert key.owner == f"entities/{me.actor.name}"
