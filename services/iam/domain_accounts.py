"""Service accounts and API keys (no gRPC, no SQL).

A service account belongs to one team, has a role (default member) and may be limited to some of the
team's projects; it only ever acts through API keys and appears as "team/name". An API key belongs to a
user or a service account; its secret is returned once by create_api_key and stored only as a keyed
hash (services/common/apikeys.py). Revocation is idempotent and reaches every process's key cache at
commit (this one directly, the others through NOTIFY).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg

from ..common import apikeys, audit
from ..common.errors import AlreadyExists, InvalidArgument, NotFound, Reason
from ..common.names import parse_project
from . import store, store_keys
from .domain import MEMBER, ROLE_NAMES, Ctx, caller_user_id, check_name, check_role, get_team, get_user


@dataclass(frozen=True)
class Owner:
    user_id: int | None
    service_account_id: int | None
    name: str  # resource name
    entity_id: int  # the user, or the service account's team


async def create_service_account(
    ctx: Ctx, parent: str, sa_id: str, description: str, role: int, projects: list[str]
) -> asyncpg.Record:
    name = check_name(sa_id, "service_account_id", "service account id")
    role = check_role(role, default=MEMBER)
    async with ctx.tx() as conn:
        team = await get_team(conn, parent, "parent")
        project_ids = await _team_projects(conn, team, projects)
        row = await store.insert_service_account(conn, team["id"], name, description, role, project_ids)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"{parent}/serviceAccounts/{name} already exists")
        after = {"role": ROLE_NAMES[role], "projects": list(row["projects"]), "description": description}
        target = f"{parent}/serviceAccounts/{name}"
        await audit.record(conn, "service_account.create", target=target, entity_id=team["id"], after=after)
    return row


async def _team_projects(conn: asyncpg.Connection, team: asyncpg.Record, names: list[str]) -> list[int]:
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


async def list_service_accounts(ctx: Ctx, parent: str) -> list[asyncpg.Record]:
    async with ctx.conn() as conn:
        team = await get_team(conn, parent, "parent")
        return await store.list_service_accounts(conn, team["id"])


async def resolve_owner(conn: asyncpg.Connection, ctx: Ctx, owner: str) -> Owner:
    """`owner` as given ("" = the caller; "entities/{user}"; "entities/{team}/serviceAccounts/{sa}")."""
    p = ctx.principal
    if not owner:
        if p.service_account_id is not None:
            return Owner(None, p.service_account_id, _sa_name(p.name), p.team_id or 0)
        user_id = await caller_user_id(conn, p)
        if user_id is None:
            raise InvalidArgument("owner", Reason.FIELD_REQUIRED, "owner is required for this caller")
        return Owner(user_id, None, f"entities/{p.name}", user_id)
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


async def pepper(ctx: Ctx) -> bytes:
    """The authorizer's pepper in keys mode; in open local mode the same source the keys mode reads."""
    value = getattr(ctx.authorizer, "pepper", b"")
    if value:
        return value
    s = ctx.settings
    return await asyncio.to_thread(apikeys.load_pepper, s.api_key_pepper, s.pepper_file)


async def create_api_key(
    ctx: Ctx, owner_name: str, description: str, expire_time: datetime | None
) -> tuple[asyncpg.Record, str]:
    """Returns the key's row and its secret (the only time the secret exists outside the caller)."""
    if expire_time is not None and expire_time <= datetime.now(timezone.utc):
        raise InvalidArgument("expire_time", Reason.OUT_OF_RANGE, "expire_time must be in the future")
    key_pepper = await pepper(ctx)
    async with ctx.tx() as conn:
        owner = await resolve_owner(conn, ctx, owner_name)
        key = apikeys.generate(key_pepper)
        row = await store_keys.insert_key(
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


async def list_api_keys(ctx: Ctx, owner_name: str, show_revoked: bool) -> list[asyncpg.Record]:
    async with ctx.conn() as conn:
        owner = await resolve_owner(conn, ctx, owner_name)
        return await store_keys.list_keys(
            conn,
            user_id=owner.user_id,
            service_account_id=owner.service_account_id,
            show_revoked=show_revoked,
        )


async def revoke_api_key(ctx: Ctx, name: str) -> asyncpg.Record:
    parts = name.split("/")
    if len(parts) != 2 or parts[0] != "apiKeys" or not parts[1]:
        field = "name"
        raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} must look like apiKeys/{{key_id}}")
    async with ctx.tx() as conn:
        row = await store_keys.get_key(conn, parts[1], lock=True)
        if row is None:
            raise NotFound("API key", name)
        if row["revoke_time"] is None:
            await store_keys.revoke_key(conn, parts[1])
            row = await store_keys.get_key(conn, parts[1])
            await audit.record(
                conn,
                "api_key.revoke",
                target=name,
                entity_id=row["owner_entity_id"],
                before={"revoke_time": None},
                after={"owner": row["owner"], "revoke_time": row["revoke_time"]},
            )
    ctx.authorizer.invalidate()
    return row


async def own_service_account(ctx: Ctx) -> asyncpg.Record | None:
    """The calling service account, when the caller is one."""
    if ctx.principal.service_account_id is None:
        return None
    async with ctx.conn() as conn:
        return await store.get_service_account_by_id(conn, ctx.principal.service_account_id)
