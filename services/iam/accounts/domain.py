"""Domain logic of the iam service (no gRPC, no SQL): users, teams and memberships, plus what every
iam operation shares (the call context, name grammars, paging). Service accounts and API keys are in
domain_accounts.py, projects in domain_projects.py, the audit log in domain_audit.py.

Authorization was decided before any of this runs (permissions.RULES + the authorizer); the domain
only enforces invariants: a team always keeps an admin, names follow their grammar, and every change
is audited in its own transaction.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from strata.common.v1 import actor_pb2

from ..common import audit
from ..common.auth import Authorizer
from ..common.auth_policy import ADMIN, MEMBER, VIEWER  # strata.iam.v1.Role values
from ..common.config import Settings
from ..common.context import Principal
from ..common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Reason,
)
from ..common.names import check, parse_entity
from ..common.projects import ensure_user_entity
from . import store

ROLE_NAMES = {VIEWER: "viewer", MEMBER: "member", ADMIN: "admin"}
NAME_RE = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,63}")  # users, teams, service accounts


@dataclass(frozen=True)
class Ctx:
    """One iam call: shared resources, the caller, and the call's deadline."""

    pool: asyncpg.Pool
    authorizer: Authorizer
    settings: Settings
    principal: Principal
    timeout: float

    @asynccontextmanager
    async def conn(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire(timeout=self.timeout) as conn:
            yield conn

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire(timeout=self.timeout) as conn, conn.transaction():
            yield conn


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_page_token: str = ""


# --- shared helpers ---


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


def page_size(value: int, default: int = 100, maximum: int = 1000) -> int:
    if value < 0:
        raise InvalidArgument("page_size", Reason.OUT_OF_RANGE, "page_size must not be negative")
    return min(value or default, maximum)


def encode_token(kind: str, after: object) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": kind, "a": after}).encode()).decode()


def decode_token(token: str, kind: str, default: Any) -> Any:
    if not token:
        return default
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["k"] == kind and isinstance(data["a"], type(default)):
            return data["a"]
    except (ValueError, KeyError, TypeError):
        pass
    raise InvalidArgument(
        "page_token", Reason.INVALID_PAGE_TOKEN, "page_token is malformed or for another list"
    )


def next_token(rows: list[Any], limit: int, kind: str, key: str) -> str:
    return encode_token(kind, rows[-1][key]) if len(rows) == limit else ""


async def caller_user_id(conn: asyncpg.Connection, p: Principal) -> int | None:
    """The caller's user entity: its own, or (open local mode) the local user's, created on first use."""
    if p.user_id is not None:
        return p.user_id
    if p.kind == actor_pb2.ACTOR_KIND_LOCAL:
        return await ensure_user_entity(conn, p.name)
    return None


async def get_team(conn: asyncpg.Connection, name: str, field: str = "team") -> asyncpg.Record:
    team = await store.get_entity(conn, parse_entity(name, field), "team")
    if team is None:
        raise NotFound("team", name)
    return team


async def get_user(conn: asyncpg.Connection, name: str, field: str = "user") -> asyncpg.Record:
    user = await store.get_entity(conn, parse_entity(name, field), "user")
    if user is None:
        raise NotFound("user", name)
    return user


# --- principal, users, teams ---


async def principal_memberships(ctx: Ctx) -> list[asyncpg.Record]:
    if ctx.principal.user_id is None:
        return []
    async with ctx.conn() as conn:
        return await store.memberships(conn, ctx.principal.user_id)


async def create_user(
    ctx: Ctx, name: str, display_name: str, email: str, server_admin: bool
) -> asyncpg.Record:
    user = check_name(parse_entity(name, "user.name"), "user.name", "user name")
    async with ctx.tx() as conn:
        row = await store.insert_entity(conn, user, "user", display_name, email, server_admin)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"entity {name!r} already exists")
        after = {"display_name": display_name, "email": email, "server_admin": server_admin}
        await audit.record(conn, "user.create", target=name, entity_id=row["id"], after=after)
    return row


async def list_entities(ctx: Ctx, kind: str, size: int, token: str, member_only: bool) -> Page:
    limit = page_size(size)
    after = decode_token(token, kind, "")
    member_id = ctx.principal.user_id if member_only and not ctx.principal.server_admin else None
    if member_only and not ctx.principal.server_admin and member_id is None:
        if ctx.principal.service_account_id is None:
            return Page([])
        async with ctx.conn() as conn:
            team = await store.get_entity_by_id(conn, ctx.principal.team_id)
        return Page([team] if team is not None and not after else [])
    async with ctx.conn() as conn:
        rows = await store.list_entities(conn, kind, after, limit, member_id)
    return Page(rows, next_token(rows, limit, kind, "name"))


async def create_team(ctx: Ctx, name: str, display_name: str) -> asyncpg.Record:
    team = check_name(parse_entity(name, "team.name"), "team.name", "team name")
    async with ctx.tx() as conn:
        creator = await caller_user_id(conn, ctx.principal)
        if creator is None:
            raise PermissionDenied(Reason.PERMISSION_DENIED, "only users create teams")
        row = await store.insert_entity(conn, team, "team", display_name, "", False)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"entity {name!r} already exists")
        await store.insert_member(conn, row["id"], creator, ADMIN)
        after = {"display_name": display_name, "admin": ctx.principal.name}
        await audit.record(conn, "team.create", target=name, entity_id=row["id"], after=after)
    ctx.authorizer.invalidate()
    return row


async def get_team_row(ctx: Ctx, name: str) -> asyncpg.Record:
    async with ctx.conn() as conn:
        return await get_team(conn, name, "name")


async def add_member(ctx: Ctx, team_name: str, user_name: str, role: int) -> tuple[str, str, asyncpg.Record]:
    role = check_role(role)
    async with ctx.tx() as conn:
        team, user = await get_team(conn, team_name), await get_user(conn, user_name)
        row = await store.insert_member(conn, team["id"], user["id"], role)
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"{user_name} is already a member of {team_name}")
        target = f"{team_name}/members/{user['name']}"
        await audit.record(
            conn, "team_member.add", target=target, entity_id=team["id"], after={"role": ROLE_NAMES[role]}
        )
    ctx.authorizer.invalidate()
    return team["name"], user["name"], row


async def change_member(
    ctx: Ctx, team_name: str, user_name: str, role: int | None
) -> tuple[str, str, asyncpg.Record | None]:
    """Set a member's role, or remove the member (role None); never leaves the team without an admin."""
    role = check_role(role) if role is not None else None
    async with ctx.tx() as conn:
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
    ctx.authorizer.invalidate()
    return team["name"], user["name"], row


async def list_members(ctx: Ctx, team_name: str) -> tuple[str, list[asyncpg.Record]]:
    async with ctx.conn() as conn:
        team = await get_team(conn, team_name)
        return team["name"], await store.list_members(conn, team["id"])
