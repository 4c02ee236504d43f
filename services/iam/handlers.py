"""gRPC handlers of the iam service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.iam.v1 import iam_service_pb2 as pb
from strata.iam.v1 import iam_service_pb2_grpc

from ..common.context import current_principal
from ..common.db import timeout_from
from ..common.deps import Deps
from . import convert
from .accounts import domain as accounts
from .audit import domain as audit
from .projects import domain as projects

Context = grpc.aio.ServicerContext


class IamServiceHandlers(iam_service_pb2_grpc.IamServiceServicer):
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

    async def CreateUser(self, request: pb.CreateUserRequest, context: Context) -> pb.CreateUserResponse:
        u = request.user
        row = await accounts.create_user(
            self.deps, u.name, u.display_name, u.email, u.server_admin, timeout_from(context)
        )
        return pb.CreateUserResponse(user=convert.user(row))

    async def ListUsers(self, request: pb.ListUsersRequest, context: Context) -> pb.ListUsersResponse:
        rows, token = await accounts.list_entities(
            self.deps,
            current_principal(),
            "user",
            request.page_size,
            request.page_token,
            False,
            timeout_from(context),
        )
        return pb.ListUsersResponse(users=[convert.user(r) for r in rows], next_page_token=token)

    async def CreateTeam(self, request: pb.CreateTeamRequest, context: Context) -> pb.CreateTeamResponse:
        row = await accounts.create_team(
            self.deps,
            current_principal(),
            request.team.name,
            request.team.display_name,
            timeout_from(context),
        )
        return pb.CreateTeamResponse(team=convert.team(row))

    async def GetTeam(self, request: pb.GetTeamRequest, context: Context) -> pb.GetTeamResponse:
        row = await accounts.get_team_row(self.deps, request.name, timeout_from(context))
        return pb.GetTeamResponse(team=convert.team(row))

    async def ListTeams(self, request: pb.ListTeamsRequest, context: Context) -> pb.ListTeamsResponse:
        rows, token = await accounts.list_entities(
            self.deps,
            current_principal(),
            "team",
            request.page_size,
            request.page_token,
            True,
            timeout_from(context),
        )
        return pb.ListTeamsResponse(teams=[convert.team(r) for r in rows], next_page_token=token)

    async def AddTeamMember(
        self, request: pb.AddTeamMemberRequest, context: Context
    ) -> pb.AddTeamMemberResponse:
        team, user, row = await accounts.add_member(
            self.deps, request.team, request.user, request.role, timeout_from(context)
        )
        return pb.AddTeamMemberResponse(member=convert.member(team, user, row))

    async def UpdateTeamMember(
        self, request: pb.UpdateTeamMemberRequest, context: Context
    ) -> pb.UpdateTeamMemberResponse:
        team, user, row = await accounts.change_member(
            self.deps, request.team, request.user, request.role, timeout_from(context)
        )
        return pb.UpdateTeamMemberResponse(member=convert.member(team, user, row))

    async def RemoveTeamMember(
        self, request: pb.RemoveTeamMemberRequest, context: Context
    ) -> pb.RemoveTeamMemberResponse:
        await accounts.change_member(self.deps, request.team, request.user, None, timeout_from(context))
        return pb.RemoveTeamMemberResponse()

    async def ListTeamMembers(
        self, request: pb.ListTeamMembersRequest, context: Context
    ) -> pb.ListTeamMembersResponse:
        team, rows = await accounts.list_members(self.deps, request.team, timeout_from(context))
        return pb.ListTeamMembersResponse(members=[convert.member(team, r["user_name"], r) for r in rows])

    # --- service accounts and keys ---

    async def CreateServiceAccount(
        self, request: pb.CreateServiceAccountRequest, context: Context
    ) -> pb.CreateServiceAccountResponse:
        row = await accounts.create_service_account(
            self.deps,
            request.parent,
            request.service_account_id,
            request.description,
            request.role,
            list(request.projects),
            timeout_from(context),
        )
        return pb.CreateServiceAccountResponse(service_account=convert.service_account(row))

    async def ListServiceAccounts(
        self, request: pb.ListServiceAccountsRequest, context: Context
    ) -> pb.ListServiceAccountsResponse:
        rows = await accounts.list_service_accounts(self.deps, request.parent, timeout_from(context))
        return pb.ListServiceAccountsResponse(service_accounts=[convert.service_account(r) for r in rows])

    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: Context
    ) -> pb.CreateApiKeyResponse:
        row, secret = await accounts.create_api_key(
            self.deps,
            current_principal(),
            request.owner,
            request.description,
            convert.when(request, "expire_time"),
            timeout_from(context),
        )
        return pb.CreateApiKeyResponse(api_key=convert.api_key(row), secret=secret)

    async def ListApiKeys(self, request: pb.ListApiKeysRequest, context: Context) -> pb.ListApiKeysResponse:
        rows = await accounts.list_api_keys(
            self.deps, current_principal(), request.owner, request.show_revoked, timeout_from(context)
        )
        return pb.ListApiKeysResponse(api_keys=[convert.api_key(r) for r in rows])

    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: Context
    ) -> pb.RevokeApiKeyResponse:
        row = await accounts.revoke_api_key(self.deps, request.name, timeout_from(context))
        return pb.RevokeApiKeyResponse(api_key=convert.api_key(row))

    # --- projects ---

    async def CreateProject(
        self, request: pb.CreateProjectRequest, context: Context
    ) -> pb.CreateProjectResponse:
        row = await projects.create_project(
            self.deps,
            request.parent,
            request.project_id,
            convert.project_settings(request.project),
            timeout_from(context),
        )
        return pb.CreateProjectResponse(project=convert.project(row))

    async def GetProject(self, request: pb.GetProjectRequest, context: Context) -> pb.GetProjectResponse:
        row = await projects.get_project(self.deps, request.name, timeout_from(context))
        return pb.GetProjectResponse(project=convert.project(row))

    async def ListProjects(
        self, request: pb.ListProjectsRequest, context: Context
    ) -> pb.ListProjectsResponse:
        rows, token = await projects.list_projects(
            self.deps,
            current_principal(),
            request.parent,
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return pb.ListProjectsResponse(projects=[convert.project(r) for r in rows], next_page_token=token)

    async def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: Context
    ) -> pb.UpdateProjectResponse:
        row = await projects.update_project(
            self.deps,
            request.project.name,
            list(request.update_mask.paths),
            convert.project_settings(request.project),
            timeout_from(context),
        )
        return pb.UpdateProjectResponse(project=convert.project(row))

    # --- audit ---

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: Context
    ) -> pb.ListAuditEventsResponse:
        rows, token = await audit.list_events(
            self.deps,
            convert.audit_filter(request.filter),
            request.page_size,
            request.page_token,
            timeout_from(context),
        )
        return pb.ListAuditEventsResponse(
            events=[convert.audit_event(r) for r in rows], next_page_token=token
        )

    async def ExportAuditEvents(
        self, request: pb.ExportAuditEventsRequest, context: Context
    ) -> AsyncIterator[pb.ExportAuditEventsResponse]:
        pages = audit.export_events(self.deps, convert.audit_filter(request.filter), timeout_from(context))
        async for rows in pages:
            yield pb.ExportAuditEventsResponse(events=[convert.audit_event(r) for r in rows])
