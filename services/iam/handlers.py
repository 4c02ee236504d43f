"""gRPC handlers of the iam service: proto <-> domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from strata.iam.v1 import iam_service_pb2 as pb
from strata.iam.v1 import iam_service_pb2_grpc

from ..common.context import current_principal
from ..common.db import timeout_from
from ..common.deps import Deps
from . import convert, domain, domain_accounts, domain_audit, domain_projects

Context = grpc.aio.ServicerContext


class IamServiceHandlers(iam_service_pb2_grpc.IamServiceServicer):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def _ctx(self, context: Context) -> domain.Ctx:
        d = self.deps
        return domain.Ctx(d.pool, d.authorizer, d.settings, current_principal(), timeout_from(context))

    async def GetPrincipal(
        self, request: pb.GetPrincipalRequest, context: Context
    ) -> pb.GetPrincipalResponse:
        ctx = self._ctx(context)
        p = ctx.principal
        rows = await domain.principal_memberships(ctx)
        out = pb.GetPrincipalResponse(
            actor=p.actor(),
            server_admin=p.server_admin,
            memberships=[convert.member(r["team_name"], p.name, r) for r in rows],
        )
        sa = await domain_accounts.own_service_account(ctx)
        if sa is not None:
            out.service_account.CopyFrom(convert.service_account(sa))
        return out

    # --- users and teams ---

    async def CreateUser(self, request: pb.CreateUserRequest, context: Context) -> pb.CreateUserResponse:
        u = request.user
        row = await domain.create_user(self._ctx(context), u.name, u.display_name, u.email, u.server_admin)
        return pb.CreateUserResponse(user=convert.user(row))

    async def ListUsers(self, request: pb.ListUsersRequest, context: Context) -> pb.ListUsersResponse:
        page = await domain.list_entities(
            self._ctx(context), "user", request.page_size, request.page_token, False
        )
        return pb.ListUsersResponse(
            users=[convert.user(r) for r in page.items], next_page_token=page.next_page_token
        )

    async def CreateTeam(self, request: pb.CreateTeamRequest, context: Context) -> pb.CreateTeamResponse:
        row = await domain.create_team(self._ctx(context), request.team.name, request.team.display_name)
        return pb.CreateTeamResponse(team=convert.team(row))

    async def GetTeam(self, request: pb.GetTeamRequest, context: Context) -> pb.GetTeamResponse:
        return pb.GetTeamResponse(
            team=convert.team(await domain.get_team_row(self._ctx(context), request.name))
        )

    async def ListTeams(self, request: pb.ListTeamsRequest, context: Context) -> pb.ListTeamsResponse:
        page = await domain.list_entities(
            self._ctx(context), "team", request.page_size, request.page_token, True
        )
        return pb.ListTeamsResponse(
            teams=[convert.team(r) for r in page.items], next_page_token=page.next_page_token
        )

    async def AddTeamMember(
        self, request: pb.AddTeamMemberRequest, context: Context
    ) -> pb.AddTeamMemberResponse:
        team, user, row = await domain.add_member(
            self._ctx(context), request.team, request.user, request.role
        )
        return pb.AddTeamMemberResponse(member=convert.member(team, user, row))

    async def UpdateTeamMember(
        self, request: pb.UpdateTeamMemberRequest, context: Context
    ) -> pb.UpdateTeamMemberResponse:
        team, user, row = await domain.change_member(
            self._ctx(context), request.team, request.user, request.role
        )
        return pb.UpdateTeamMemberResponse(member=convert.member(team, user, row))

    async def RemoveTeamMember(
        self, request: pb.RemoveTeamMemberRequest, context: Context
    ) -> pb.RemoveTeamMemberResponse:
        await domain.change_member(self._ctx(context), request.team, request.user, None)
        return pb.RemoveTeamMemberResponse()

    async def ListTeamMembers(
        self, request: pb.ListTeamMembersRequest, context: Context
    ) -> pb.ListTeamMembersResponse:
        team, rows = await domain.list_members(self._ctx(context), request.team)
        return pb.ListTeamMembersResponse(members=[convert.member(team, r["user_name"], r) for r in rows])

    # --- service accounts and keys ---

    async def CreateServiceAccount(
        self, request: pb.CreateServiceAccountRequest, context: Context
    ) -> pb.CreateServiceAccountResponse:
        row = await domain_accounts.create_service_account(
            self._ctx(context),
            request.parent,
            request.service_account_id,
            request.description,
            request.role,
            list(request.projects),
        )
        return pb.CreateServiceAccountResponse(service_account=convert.service_account(row))

    async def ListServiceAccounts(
        self, request: pb.ListServiceAccountsRequest, context: Context
    ) -> pb.ListServiceAccountsResponse:
        rows = await domain_accounts.list_service_accounts(self._ctx(context), request.parent)
        return pb.ListServiceAccountsResponse(service_accounts=[convert.service_account(r) for r in rows])

    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: Context
    ) -> pb.CreateApiKeyResponse:
        expire = convert.when(request, "expire_time")
        row, secret = await domain_accounts.create_api_key(
            self._ctx(context), request.owner, request.description, expire
        )
        return pb.CreateApiKeyResponse(api_key=convert.api_key(row), secret=secret)

    async def ListApiKeys(self, request: pb.ListApiKeysRequest, context: Context) -> pb.ListApiKeysResponse:
        rows = await domain_accounts.list_api_keys(self._ctx(context), request.owner, request.show_revoked)
        return pb.ListApiKeysResponse(api_keys=[convert.api_key(r) for r in rows])

    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: Context
    ) -> pb.RevokeApiKeyResponse:
        row = await domain_accounts.revoke_api_key(self._ctx(context), request.name)
        return pb.RevokeApiKeyResponse(api_key=convert.api_key(row))

    # --- projects ---

    async def CreateProject(
        self, request: pb.CreateProjectRequest, context: Context
    ) -> pb.CreateProjectResponse:
        settings = convert.project_settings(request.project)
        row = await domain_projects.create_project(
            self._ctx(context), request.parent, request.project_id, settings
        )
        return pb.CreateProjectResponse(project=convert.project(row))

    async def GetProject(self, request: pb.GetProjectRequest, context: Context) -> pb.GetProjectResponse:
        row = await domain_projects.get_project(self._ctx(context), request.name)
        return pb.GetProjectResponse(project=convert.project(row))

    async def ListProjects(
        self, request: pb.ListProjectsRequest, context: Context
    ) -> pb.ListProjectsResponse:
        page = await domain_projects.list_projects(
            self._ctx(context), request.parent, request.page_size, request.page_token
        )
        return pb.ListProjectsResponse(
            projects=[convert.project(r) for r in page.items], next_page_token=page.next_page_token
        )

    async def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: Context
    ) -> pb.UpdateProjectResponse:
        row = await domain_projects.update_project(
            self._ctx(context),
            request.project.name,
            list(request.update_mask.paths),
            convert.project_settings(request.project),
        )
        return pb.UpdateProjectResponse(project=convert.project(row))

    # --- audit ---

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: Context
    ) -> pb.ListAuditEventsResponse:
        page = await domain_audit.list_events(
            self._ctx(context), convert.audit_filter(request.filter), request.page_size, request.page_token
        )
        return pb.ListAuditEventsResponse(
            events=[convert.audit_event(r) for r in page.items], next_page_token=page.next_page_token
        )

    async def ExportAuditEvents(
        self, request: pb.ExportAuditEventsRequest, context: Context
    ) -> AsyncIterator[pb.ExportAuditEventsResponse]:
        async for rows in domain_audit.export_events(
            self._ctx(context), convert.audit_filter(request.filter)
        ):
            yield pb.ExportAuditEventsResponse(events=[convert.audit_event(r) for r in rows])
