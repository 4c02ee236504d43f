"""gRPC handlers of the iam service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from strata.iam.v1 import iam_service_pb2 as pb
from strata.iam.v1 import iam_service_pb2_grpc

from ..common.context import current_principal
from ..common.db import timeout_from
from ..common.deps import Deps
from ..common.unary import paged, unary
from . import convert
from .accounts import domain as accounts
from .audit import domain as audit
from .projects import domain as projects

Context = grpc.aio.ServicerContext
# the generated servicer is untyped; as Any it lends no (untyped) signature to the rows below
_Servicer: Any = iam_service_pb2_grpc.IamServiceServicer


class IamServiceHandlers(_Servicer):
    """Every iam RPC: the unary ones as rows of common.unary, the rest as methods."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def GetPrincipal(
        self, request: pb.GetPrincipalRequest, context: Context
    ) -> pb.GetPrincipalResponse:
        p, timeout = current_principal(), timeout_from(context)
        rows = await accounts.principal_memberships(self.deps, p, timeout)
        out = pb.GetPrincipalResponse(
            actor=p.actor(),
            server_admin=p.server_admin,
            memberships=[convert.member(r["team_name"], p.name, r) for r in rows],
        )
        sa = await accounts.own_service_account(self.deps, p, timeout)
        if sa is not None:
            out.service_account.CopyFrom(convert.service_account(sa))
        return out

    # --- users and teams ---

    CreateUser = unary(
        pb.CreateUserRequest,
        lambda deps, r, t: accounts.create_user(
            deps, r.user.name, r.user.display_name, r.user.email, r.user.server_admin, t
        ),
        lambda row: pb.CreateUserResponse(user=convert.user(row)),
    )
    ListUsers = unary(
        pb.ListUsersRequest,
        lambda deps, r, t: accounts.list_entities(
            deps, current_principal(), "user", r.page_size, r.page_token, False, t
        ),
        paged(pb.ListUsersResponse, "users", convert.user),
    )
    CreateTeam = unary(
        pb.CreateTeamRequest,
        lambda deps, r, t: accounts.create_team(
            deps, current_principal(), r.team.name, r.team.display_name, t
        ),
        lambda row: pb.CreateTeamResponse(team=convert.team(row)),
    )
    GetTeam = unary(
        pb.GetTeamRequest,
        lambda deps, r, t: accounts.get_team_row(deps, r.name, t),
        lambda row: pb.GetTeamResponse(team=convert.team(row)),
    )
    ListTeams = unary(
        pb.ListTeamsRequest,
        lambda deps, r, t: accounts.list_entities(
            deps, current_principal(), "team", r.page_size, r.page_token, True, t
        ),
        paged(pb.ListTeamsResponse, "teams", convert.team),
    )
    AddTeamMember = unary(
        pb.AddTeamMemberRequest,
        lambda deps, r, t: accounts.add_member(deps, r.team, r.user, r.role, t),
        lambda found: pb.AddTeamMemberResponse(member=convert.member(*found)),
    )
    UpdateTeamMember = unary(
        pb.UpdateTeamMemberRequest,
        lambda deps, r, t: accounts.change_member(deps, r.team, r.user, r.role, t),
        lambda found: pb.UpdateTeamMemberResponse(member=convert.member(*found)),
    )
    RemoveTeamMember = unary(
        pb.RemoveTeamMemberRequest,
        lambda deps, r, t: accounts.change_member(deps, r.team, r.user, None, t),
        lambda _: pb.RemoveTeamMemberResponse(),
    )
    ListTeamMembers = unary(
        pb.ListTeamMembersRequest,
        lambda deps, r, t: accounts.list_members(deps, r.team, t),
        lambda found: pb.ListTeamMembersResponse(
            members=[convert.member(found[0], row["user_name"], row) for row in found[1]]
        ),
    )

    # --- service accounts and keys ---

    CreateServiceAccount = unary(
        pb.CreateServiceAccountRequest,
        lambda deps, r, t: accounts.create_service_account(
            deps, r.parent, r.service_account_id, r.description, r.role, list(r.projects), t
        ),
        lambda row: pb.CreateServiceAccountResponse(service_account=convert.service_account(row)),
    )
    ListServiceAccounts = unary(
        pb.ListServiceAccountsRequest,
        lambda deps, r, t: accounts.list_service_accounts(deps, r.parent, t),
        lambda rows: pb.ListServiceAccountsResponse(
            service_accounts=[convert.service_account(row) for row in rows]
        ),
    )
    CreateApiKey = unary(
        pb.CreateApiKeyRequest,
        lambda deps, r, t: accounts.create_api_key(
            deps, current_principal(), r.owner, r.description, convert.when(r, "expire_time"), t
        ),
        lambda found: pb.CreateApiKeyResponse(api_key=convert.api_key(found[0]), secret=found[1]),
    )
    ListApiKeys = unary(
        pb.ListApiKeysRequest,
        lambda deps, r, t: accounts.list_api_keys(deps, current_principal(), r.owner, r.show_revoked, t),
        lambda rows: pb.ListApiKeysResponse(api_keys=[convert.api_key(row) for row in rows]),
    )
    RevokeApiKey = unary(
        pb.RevokeApiKeyRequest,
        lambda deps, r, t: accounts.revoke_api_key(deps, r.name, t),
        lambda row: pb.RevokeApiKeyResponse(api_key=convert.api_key(row)),
    )

    # --- projects ---

    CreateProject = unary(
        pb.CreateProjectRequest,
        lambda deps, r, t: projects.create_project(
            deps, r.parent, r.project_id, convert.project_settings(r.project), t
        ),
        lambda row: pb.CreateProjectResponse(project=convert.project(row)),
    )
    GetProject = unary(
        pb.GetProjectRequest,
        lambda deps, r, t: projects.get_project(deps, r.name, t),
        lambda row: pb.GetProjectResponse(project=convert.project(row)),
    )
    ListProjects = unary(
        pb.ListProjectsRequest,
        lambda deps, r, t: projects.list_projects(
            deps, current_principal(), r.parent, r.page_size, r.page_token, t
        ),
        paged(pb.ListProjectsResponse, "projects", convert.project),
    )
    UpdateProject = unary(
        pb.UpdateProjectRequest,
        lambda deps, r, t: projects.update_project(
            deps, r.project.name, list(r.update_mask.paths), convert.project_settings(r.project), t
        ),
        lambda row: pb.UpdateProjectResponse(project=convert.project(row)),
    )

    # --- audit ---

    ListAuditEvents = unary(
        pb.ListAuditEventsRequest,
        lambda deps, r, t: audit.list_events(
            deps, convert.audit_filter(r.filter), r.page_size, r.page_token, t
        ),
        paged(pb.ListAuditEventsResponse, "events", convert.audit_event),
    )

    async def ExportAuditEvents(
        self, request: pb.ExportAuditEventsRequest, context: Context
    ) -> AsyncIterator[pb.ExportAuditEventsResponse]:
        pages = audit.export_events(self.deps, convert.audit_filter(request.filter), timeout_from(context))
        async for rows in pages:
            yield pb.ExportAuditEventsResponse(events=[convert.audit_event(r) for r in rows])
