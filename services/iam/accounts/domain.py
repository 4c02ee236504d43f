"""Accounts (no gRPC, no SQL): users, teams and their members, service accounts and API keys.

Authorization was decided before any of this runs (auth.policy.RULES + the authorizer); the domain
only enforces invariants: a team always keeps an admin, names follow their grammar, and every change
is audited in its own transaction.

A service account belongs to one team, has a role (default member) and may be limited to some of the
team's projects; it only ever acts through API keys and appears as "team/name". An API key belongs to a
user or a service account; its secret is returned once by create_api_key and stored only as a keyed
hash (common/auth/apikeys.py). Revocation is idempotent and reaches every process's key cache at
commit (this one directly, the others through NOTIFY).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg
from strata.common.v1 import actor_pb2

from ...common import audit, paging
from ...common import text as textcheck
from ...common.auth import apikeys
from ...common.auth import store as key_store
from ...common.auth.roles import ADMIN, MEMBER, VIEWER
from ...common.context import Principal
from ...common.db import Conn
from ...common.deps import Deps
from ...common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Reason,
)
from ...common.names import check, parse_entity, parse_project
from ...common.projects import ensure_user_entity
from . import store

ROLE_NAMES: dict[int, str] = {VIEWER: "viewer", MEMBER: "member", ADMIN: "admin"}
NAME_RE = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,63}")  # users, teams, service accounts
PAGE_DEFAULT, PAGE_MAXIMUM = 100, 1000  # ListUsers, ListTeams


@dataclass(frozen=True)
class Owner:
    user_id: int | None
    service_account_id: int | None
    name: str  # resource name
    entity_id: int  # the user, or the service account's team


# --- shared checks and lookups ---


def check_name(value: str, field: str, what: str) -> str:
    """A user, team or service-account name (common.names.check with the iam grammar)."""
    return check(value, NAME_RE, field, what)


def check_role(role: int, field: str = "role", default: int | None = None) -> int:
    if role == 0 and default is not None:
        return default
    if role == 0:
        raise InvalidArgument(field, Reason.FIELD_REQUIRED, f"{field} is required")
    if role not in ROLE_NAMES:
        raise InvalidArgument(field, Reason.OUT_OF_RANGE, f"{field} {role} is not a role")
    return role


async def caller_user_id(conn: Conn, p: Principal) -> int | None:
    """The caller's user entity: its own, or (open local mode) the local user's, created on first use."""
    if p.user_id is not None:
        return p.user_id
    if p.kind == actor_pb2.ACTOR_KIND_LOCAL:
        return await ensure_user_entity(conn, p.name)
    return None


async def get_team(conn: Conn, name: str, field: str = "team") -> asyncpg.Record:
    team = await store.get_entity(conn, parse_entity(name, field), "team")
    if team is None:
        raise NotFound("team", name)
    return team


async def get_user(conn: Conn, name: str, field: str = "user") -> asyncpg.Record:
    user = await store.get_entity(conn, parse_entity(name, field), "user")
    if user is None:
        raise NotFound("user", name)
    return user


# --- principal, users, teams ---


async def principal_memberships(deps: Deps, caller: Principal, timeout: float) -> list[asyncpg.Record]:
    if caller.user_id is None:
        return []
    async with deps.pool.acquire(timeout=timeout) as conn:
        return await store.memberships(conn, caller.user_id)


async def create_user(
    deps: Deps, name: str, display_name: str, email: str, server_admin: bool, timeout: float
) -> asyncpg.Record:
    user = check_name(parse_entity(name, "user.name"), "user.name", "user name")
    textcheck.check(display_name, "user.display_name", textcheck.DISPLAY_NAME_MAX)
    textcheck.check(email, "user.email", textcheck.EMAIL_MAX)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await store.insert_entity(conn, user, "user", display_name, email, server_admin)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"entity {name!r} already exists")
        after = {"display_name": display_name, "email": email, "server_admin": server_admin}
        await audit.record(conn, "user.create", target=name, entity_id=row["id"], after=after)
    return row


async def list_entities(
    deps: Deps, caller: Principal, kind: str, size: int, token: str, member_only: bool, timeout: float
) -> tuple[list[asyncpg.Record], str]:
    """Users or teams by name; with member_only, the teams the caller belongs to (all for a server
    admin, its own team for a service account)."""
    req = paging.page_request({"list": kind}, size, token, str, PAGE_DEFAULT, PAGE_MAXIMUM)
    after = req.position
    member_id = caller.user_id if member_only and not caller.server_admin else None
    if member_only and not caller.server_admin and member_id is None:
        if caller.service_account_id is None:
            return [], ""
        async with deps.pool.acquire(timeout=timeout) as conn:
            team = await store.get_entity_by_id(conn, caller.team_id)
        return ([team] if team is not None and after is None else []), ""
    async with deps.pool.acquire(timeout=timeout) as conn:
        rows = await store.list_entities(conn, kind, after or "", req.limit + 1, member_id)
    return req.page(rows, lambda r: r["name"])


async def create_team(
    deps: Deps, caller: Principal, name: str, display_name: str, timeout: float
) -> asyncpg.Record:
    team = check_name(parse_entity(name, "team.name"), "team.name", "team name")
    textcheck.check(display_name, "team.display_name", textcheck.DISPLAY_NAME_MAX)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        creator = await caller_user_id(conn, caller)
        if creator is None:
            raise PermissionDenied(Reason.PERMISSION_DENIED, "only users create teams")
        row = await store.insert_entity(conn, team, "team", display_name, "", False)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"entity {name!r} already exists")
        await store.insert_member(conn, row["id"], creator, ADMIN)
        after = {"display_name": display_name, "admin": caller.name}
        await audit.record(conn, "team.create", target=name, entity_id=row["id"], after=after)
    deps.authorizer.invalidate()
    return row


async def get_team_row(deps: Deps, name: str, timeout: float) -> asyncpg.Record:
    async with deps.pool.acquire(timeout=timeout) as conn:
        return await get_team(conn, name, "name")


async def add_member(
    deps: Deps, team_name: str, user_name: str, role: int, timeout: float
) -> tuple[str, str, asyncpg.Record]:
    role = check_role(role)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        team, user = await get_team(conn, team_name), await get_user(conn, user_name)
        row = await store.insert_member(conn, team["id"], user["id"], role)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"{user_name} is already a member of {team_name}")
        target = f"{team_name}/members/{user['name']}"
        await audit.record(
            conn, "team_member.add", target=target, entity_id=team["id"], after={"role": ROLE_NAMES[role]}
        )
    deps.authorizer.invalidate()
    return team["name"], user["name"], row


async def change_member(
    deps: Deps, team_name: str, user_name: str, role: int | None, timeout: float
) -> tuple[str, str, asyncpg.Record | None]:
    """Set a member's role, or remove the member (role None); never leaves the team without an admin."""
    role = check_role(role) if role is not None else None
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        team, user = await get_team(conn, team_name), await get_user(conn, user_name)
        members = await store.lock_members(conn, team["id"])
        if user["id"] not in members:
            raise NotFound("team member", f"{team_name}/members/{user['name']}")
        before = members[user["id"]]
        admins_left = sum(1 for uid, r in members.items() if r == ADMIN and uid != user["id"])
        if before == ADMIN and role != ADMIN and admins_left == 0:
            raise FailedPrecondition(Reason.LAST_TEAM_ADMIN, f"{user_name} is the last admin of {team_name}")
        target = f"{team_name}/members/{user['name']}"
        if role == before:  # nothing changes: nothing to audit
            return team["name"], user["name"], await store.set_member_role(conn, team["id"], user["id"], role)
        if role is None:
            await store.delete_member(conn, team["id"], user["id"])
            row, action, after = None, "team_member.remove", None
        else:
            row = await store.set_member_role(conn, team["id"], user["id"], role)
            action, after = "team_member.update", {"role": ROLE_NAMES[role]}
        before_doc = {"role": ROLE_NAMES[before]}
        await audit.record(conn, action, target=target, entity_id=team["id"], before=before_doc, after=after)
    deps.authorizer.invalidate()
    return team["name"], user["name"], row


async def list_members(deps: Deps, team_name: str, timeout: float) -> tuple[str, list[asyncpg.Record]]:
    async with deps.pool.acquire(timeout=timeout) as conn:
        team = await get_team(conn, team_name)
        return team["name"], await store.list_members(conn, team["id"])


# --- service accounts ---


async def create_service_account(
    deps: Deps, parent: str, sa_id: str, description: str, role: int, projects: list[str], timeout: float
) -> asyncpg.Record:
    name = check_name(sa_id, "service_account_id", "service account id")
    textcheck.check(description, "description", textcheck.DESCRIPTION_MAX)
    role = check_role(role, default=MEMBER)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        team = await get_team(conn, parent, "parent")
        project_ids = await _team_projects(conn, team, projects)
        row = await store.insert_service_account(conn, team["id"], name, description, role, project_ids)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"{parent}/serviceAccounts/{name} already exists")
        after = {"role": ROLE_NAMES[role], "projects": list(row["projects"]), "description": description}
        target = f"{parent}/serviceAccounts/{name}"
        await audit.record(conn, "service_account.create", target=target, entity_id=team["id"], after=after)
    return row


async def _team_projects(conn: Conn, team: asyncpg.Record, names: list[str]) -> list[int]:
    wanted = []
    for value in names:
        project = parse_project(value, "projects")
        if project.entity != team["name"]:
            raise InvalidArgument("projects", Reason.INVALID_NAME, f"{value} is not a project of the team")
        wanted.append(project.project)
    found = await store.project_ids(conn, team["id"], wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound("project", f"entities/{team['name']}/projects/{missing[0]}")
    return sorted(set(found.values()))


async def list_service_accounts(deps: Deps, parent: str, timeout: float) -> list[asyncpg.Record]:
    async with deps.pool.acquire(timeout=timeout) as conn:
        team = await get_team(conn, parent, "parent")
        return await store.list_service_accounts(conn, team["id"])


async def own_service_account(deps: Deps, caller: Principal, timeout: float) -> asyncpg.Record | None:
    """The calling service account, when the caller is one."""
    if caller.service_account_id is None:
        return None
    async with deps.pool.acquire(timeout=timeout) as conn:
        return await store.get_service_account_by_id(conn, caller.service_account_id)


# --- API keys ---


async def resolve_owner(conn: Conn, caller: Principal, owner: str) -> Owner:
    """`owner` as given ("" = the caller; "entities/{user}"; "entities/{team}/serviceAccounts/{sa}")."""
    if not owner:
        if caller.service_account_id is not None:
            return Owner(None, caller.service_account_id, _sa_name(caller.name), caller.team_id or 0)
        user_id = await caller_user_id(conn, caller)
        if user_id is None:
            raise InvalidArgument("owner", Reason.FIELD_REQUIRED, "owner is required for this caller")
        return Owner(user_id, None, f"entities/{caller.name}", user_id)
    parts = owner.split("/")
    if len(parts) == 4 and parts[0] == "entities" and parts[2] == "serviceAccounts":
        sa = await store.get_service_account(conn, parts[1], parts[3])
        if sa is None:
            raise NotFound("service account", owner)
        return Owner(None, sa["id"], owner, sa["team_id"])
    user = await get_user(conn, owner, "owner")
    return Owner(user["id"], None, f"entities/{user['name']}", user["id"])


def _sa_name(principal_name: str) -> str:
    team, _, name = principal_name.partition("/")
    return f"entities/{team}/serviceAccounts/{name}"


async def pepper(deps: Deps) -> bytes:
    """The authorizer's pepper in keys mode; in open local mode the same source the keys mode reads."""
    value = getattr(deps.authorizer, "pepper", b"")
    if value:
        return value
    s = deps.settings
    return await asyncio.to_thread(apikeys.load_pepper, s.api_key_pepper, s.pepper_file)


async def create_api_key(
    deps: Deps,
    caller: Principal,
    owner_name: str,
    description: str,
    expire_time: datetime | None,
    timeout: float,
) -> tuple[asyncpg.Record, str]:
    """Returns the key's row and its secret (the only time the secret exists outside the caller)."""
    textcheck.check(description, "description", textcheck.DESCRIPTION_MAX)
    if expire_time is not None and expire_time <= datetime.now(timezone.utc):
        raise InvalidArgument("expire_time", Reason.OUT_OF_RANGE, "expire_time must be in the future")
    key_pepper = await pepper(deps)
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        owner = await resolve_owner(conn, caller, owner_name)
        key = apikeys.generate(key_pepper)
        row = await key_store.insert_key(
            conn,
            key.id,
            key.prefix,
            key.secret_hash,
            user_id=owner.user_id,
            service_account_id=owner.service_account_id,
            description=description,
            expire_time=expire_time,
        )
        after = {
            "owner": owner.name,
            "prefix": key.prefix,
            "description": description,
            "expire_time": expire_time,
        }
        await audit.record(
            conn, "api_key.create", target=f"apiKeys/{key.id}", entity_id=owner.entity_id, after=after
        )
    return row, key.token


async def list_api_keys(
    deps: Deps, caller: Principal, owner_name: str, show_revoked: bool, timeout: float
) -> list[asyncpg.Record]:
    async with deps.pool.acquire(timeout=timeout) as conn:
        owner = await resolve_owner(conn, caller, owner_name)
        return await key_store.list_keys(
            conn,
            user_id=owner.user_id,
            service_account_id=owner.service_account_id,
            show_revoked=show_revoked,
        )


async def revoke_api_key(deps: Deps, name: str, timeout: float) -> asyncpg.Record:
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "apiKeys" or not parts[1]:
        field = "name"
        raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} must look like apiKeys/{{key_id}}")
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        row = await key_store.get_key(conn, parts[1], lock=True)
        if row is None:
            raise NotFound("API key", name)
        if row["revoke_time"] is None:
            await key_store.revoke_key(conn, parts[1])
            row = await key_store.get_key(conn, parts[1])
            assert row is not None  # revoked, not deleted
            await audit.record(
                conn,
                "api_key.revoke",
                target=name,
                entity_id=row["owner_entity_id"],
                before={"revoke_time": None},
                after={"owner": row["owner"], "revoke_time": row["revoke_time"]},
            )
    deps.authorizer.invalidate()
    return row
