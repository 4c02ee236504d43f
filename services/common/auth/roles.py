"""Role rules: the role a principal holds on an entity, a project or a team. Pure functions (no
I/O), so the whole policy reads in one screen.

  user              admin of their own entity (personal projects); their role in each team they belong to
  service account   its `role` in its team's projects (only `project_ids` when limited); never manages
                    teams; creates projects on first use only when not limited to projects
  server admin      admin everywhere (operators already hold the database)
  public-read       any authenticated principal reads (never writes) a PUBLIC_READ project
"""

from __future__ import annotations

from strata.iam.v1 import iam_pb2

from ..context import Principal
from .policy import Access
from .store import PUBLIC_READ, ProjectRef

NONE = iam_pb2.ROLE_UNSPECIFIED  # no role at all
VIEWER = iam_pb2.ROLE_VIEWER
MEMBER = iam_pb2.ROLE_MEMBER
ADMIN = iam_pb2.ROLE_ADMIN

MIN_ROLE: dict[Access, int] = {
    Access.PROJECT_READ: VIEWER,
    Access.PROJECT_WRITE: MEMBER,
    Access.PROJECT_ADMIN: ADMIN,
    Access.ENTITY_WRITE: MEMBER,
    Access.TEAM_READ: VIEWER,
    Access.TEAM_ADMIN: ADMIN,
    Access.AUDIT_READ: ADMIN,
}


def entity_role(p: Principal, entity_id: int) -> int:
    """The role `p` holds on every project of an entity, present and future."""
    if p.server_admin:
        return ADMIN
    if p.user_id is not None:
        return ADMIN if entity_id == p.user_id else p.roles.get(entity_id, NONE)
    if p.service_account_id is not None and entity_id == p.team_id and p.project_ids is None:
        return p.role
    return NONE


def project_role(p: Principal, project: ProjectRef) -> int:
    """The role on one project; a missing project (`id` None) falls back to the entity-wide role."""
    if project.id is None:
        return entity_role(p, project.entity_id)
    if p.service_account_id is not None and not p.server_admin:
        in_scope = project.entity_id == p.team_id and (p.project_ids is None or project.id in p.project_ids)
        role = p.role if in_scope else NONE
    else:
        role = entity_role(p, project.entity_id)
    if role == NONE and project.visibility == PUBLIC_READ:
        return VIEWER
    return role


def team_role(p: Principal, team_id: int) -> int:
    """Role in a team as a group: members per their role; a team's service account reads only."""
    if p.server_admin:
        return ADMIN
    if p.user_id is not None:
        return p.roles.get(team_id, NONE)
    if p.service_account_id is not None and p.team_id == team_id:
        return VIEWER
    return NONE
