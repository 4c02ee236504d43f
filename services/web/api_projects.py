"""The caller and their projects: GET /api/v1/me, /api/v1/projects, /api/v1/projects/{entity}/{project}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam

from . import convert
from .api_common import Json, call, project_name
from .api_spec import BOOLEAN, OBJECT, STRING, array, declare, obj
from .bridge import ApiError


async def principal(request: Request) -> iam.GetPrincipalResponse:
    who: iam.GetPrincipalResponse = await call(request, "iam", "GetPrincipal", iam.GetPrincipalRequest())
    return who


@declare(
    response=obj(
        name=STRING, server_admin=BOOLEAN, teams=array(obj(team=STRING, role=STRING)), open_local=BOOLEAN
    ),
)
async def me(request: Request) -> Response:
    """GET /api/v1/me: who the caller is, their teams, and whether this is open-local mode."""
    p = await principal(request)
    teams = [{"team": m.team, "role": iam_pb2.Role.Name(m.role)} for m in p.memberships]
    return Json(
        {
            "name": p.actor.name,
            "server_admin": p.server_admin,
            "teams": teams,
            "open_local": request.app.state.settings.open_local,
        }
    )


async def entities_of(request: Request) -> list[str]:
    """The caller's own entity and teams; every user and team when the caller is a server admin."""
    p = await principal(request)
    own = p.actor.name if p.actor.name.startswith("entities/") else f"entities/{p.actor.name}"
    names = [own] if p.actor.name and not p.service_account.name else []
    names += [m.team for m in p.memberships]
    if p.service_account.name:
        names.append(p.service_account.name.split("/serviceAccounts/")[0])
    if p.server_admin:
        for rpc, req, field in (
            ("ListTeams", iam.ListTeamsRequest(page_size=1000), "teams"),
            ("ListUsers", iam.ListUsersRequest(page_size=1000), "users"),
        ):
            try:
                resp = await call(request, "iam", rpc, req)
            except ApiError:
                continue
            names += [x.name for x in getattr(resp, field)]
    return list(dict.fromkeys(names))


@declare(response=obj(projects=array(OBJECT)))
async def projects(request: Request) -> Response:
    """GET /api/v1/projects: projects of the caller's entities and teams (ListProjects per entity)."""
    out = []
    for entity in await entities_of(request):
        try:
            resp = await call(
                request, "iam", "ListProjects", iam.ListProjectsRequest(parent=entity, page_size=1000)
            )
        except ApiError:
            continue  # an entity the caller cannot list (e.g. a user's private space)
        for p in resp.projects:
            out.append(project_json(p))
    return Json({"projects": out})


def project_json(p: iam_pb2.Project) -> dict[str, object]:
    parts = p.name.split("/")
    visibility = iam_pb2.ProjectVisibility.Name(p.visibility).removeprefix("PROJECT_VISIBILITY_").lower()
    return {
        "name": p.name,
        "entity": parts[1],
        "project": parts[3],
        "description": p.description,
        "visibility": visibility,
        "protected_aliases": list(p.protected_aliases),
        "create_time": convert.ts(p.create_time),
    }


@declare(response=obj(project=OBJECT))
async def get_project(request: Request) -> Response:
    """GET /api/v1/projects/{entity}/{project}: the project (GetProject)."""
    resp = await call(request, "iam", "GetProject", iam.GetProjectRequest(name=project_name(request)))
    return Json({"project": project_json(resp.project)})


ROUTES = [
    Route("/api/v1/me", me),
    Route("/api/v1/projects", projects),
    Route("/api/v1/projects/{entity}/{project}", get_project),
]
