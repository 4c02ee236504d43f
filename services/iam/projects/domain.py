"""Projects (no gRPC, no SQL): create, get, list what the caller can see, update settings.

Projects are also created on first use by the data services (services/common/projects.ensure_project);
here they are created explicitly, with settings. Listing never reveals a private project to someone
who cannot read it, and a missing entity lists as empty (no existence probe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from ...common import audit, paging
from ...common import text as textcheck
from ...common.auth import roles
from ...common.auth.store import PRIVATE, PUBLIC_READ
from ...common.context import Principal
from ...common.deps import Deps
from ...common.errors import AlreadyExists, InvalidArgument, NotFound, Reason
from ...common.names import PROJECT_RE, check, check_alias, parse_entity, parse_project
from ...common.projects import ensure_user_entity
from ..accounts import store as accounts_store
from . import store

VISIBILITY_NAMES = {PRIVATE: "private", PUBLIC_READ: "public_read"}
PAGE_DEFAULT, PAGE_MAXIMUM = 100, 1000  # ListProjects


@dataclass(frozen=True)
class ProjectSettings:
    """A project's settings as given by the caller (None: not given)."""

    description: str | None = None
    visibility: int | None = None
    default_ttl: timedelta | None = None
    protected_aliases: list[str] | None = None


def _visibility(value: int) -> int:
    if value == 0:
        return PRIVATE
    if value not in VISIBILITY_NAMES:
        raise InvalidArgument("project.visibility", Reason.OUT_OF_RANGE, f"unknown visibility {value}")
    return value


def _aliases(values: list[str]) -> list[str]:
    return sorted({check_alias(a, "project.protected_aliases") for a in values})


def _ttl(value: timedelta | None) -> timedelta | None:
    if value is not None and value <= timedelta(0):
        raise InvalidArgument("project.default_ttl", Reason.OUT_OF_RANGE, "default_ttl must be positive")
    return value


def _doc(row: asyncpg.Record, fields: tuple[str, ...] = store.UPDATABLE) -> dict[str, Any]:
    doc = {f: row[f] for f in fields}
    if "visibility" in doc:
        doc["visibility"] = VISIBILITY_NAMES.get(doc["visibility"], doc["visibility"])
    if "protected_aliases" in doc:
        doc["protected_aliases"] = list(doc["protected_aliases"])
    if doc.get("default_ttl") is not None:
        doc["default_ttl"] = doc["default_ttl"].total_seconds()
    return doc


async def create_project(
    deps: Deps, parent: str, project_id: str, s: ProjectSettings, timeout: float
) -> asyncpg.Record:
    entity_name = parse_entity(parent, "parent")
    name = check(project_id, PROJECT_RE, "project_id", "project")
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        entity = await accounts_store.get_entity(conn, entity_name)
        if entity is None and deps.authorizer.mode == "open-local":  # as ensure_project does there
            await ensure_user_entity(conn, entity_name)
            entity = await accounts_store.get_entity(conn, entity_name)
        if entity is None:
            raise NotFound("entity", parent)
        row = await store.insert_project(
            conn,
            entity["id"],
            name,
            textcheck.check(s.description or "", "project.description", textcheck.DESCRIPTION_MAX),
            _visibility(s.visibility or 0),
            _ttl(s.default_ttl),
            _aliases(s.protected_aliases or []),
        )
        if row is None:
            raise AlreadyExists(Reason.ALREADY_EXISTS, f"{parent}/projects/{name} already exists")
        target = f"{parent}/projects/{name}"
        await audit.record(conn, "project.create", target=target, project_id=row["id"], after=_doc(row))
    return row


async def get_project(deps: Deps, name: str, timeout: float) -> asyncpg.Record:
    project = parse_project(name, "name")
    async with deps.pool.acquire(timeout=timeout) as conn:
        row = await store.get_project(conn, project.entity, project.project)
    if row is None:
        raise NotFound("project", name)
    return row


async def list_projects(
    deps: Deps, caller: Principal, parent: str, size: int, token: str, timeout: float
) -> tuple[list[asyncpg.Record], str]:
    """The projects of `parent` the caller can see, by name."""
    entity_name = parse_entity(parent, "parent")
    query = {"list": "projects", "parent": entity_name}
    req = paging.page_request(query, size, token, str, PAGE_DEFAULT, PAGE_MAXIMUM)
    async with deps.pool.acquire(timeout=timeout) as conn:
        entity = await accounts_store.get_entity(conn, entity_name)
        if entity is None:
            return [], ""
        full = roles.entity_role(caller, entity["id"]) > roles.NONE
        limited = (
            sorted(caller.project_ids)
            if caller.project_ids is not None and caller.team_id == entity["id"]
            else None
        )
        rows = await store.list_projects(
            conn,
            entity["id"],
            req.position or "",
            req.limit + 1,
            public_only=not full and limited is None,
            limited_to=limited,
        )
    return req.page(rows, lambda r: r["name"])


def _changes(paths: list[str], s: ProjectSettings) -> dict[str, Any]:
    """The checked new values of the update mask's fields."""
    if not paths:
        raise InvalidArgument("update_mask", Reason.FIELD_REQUIRED, "update_mask is required")
    bad = [path for path in paths if path not in store.UPDATABLE]
    if bad:
        raise InvalidArgument("update_mask", Reason.INVALID_UPDATE_MASK, f"cannot update {bad[0]!r}")
    changes: dict[str, Any] = {}
    for path in dict.fromkeys(paths):
        if path == "description":
            changes[path] = textcheck.check(
                s.description or "", "project.description", textcheck.DESCRIPTION_MAX
            )
        elif path == "visibility":
            changes[path] = _visibility(s.visibility or 0)
        elif path == "default_ttl":
            changes[path] = _ttl(s.default_ttl)
        else:
            changes[path] = _aliases(s.protected_aliases or [])
    return changes


async def update_project(
    deps: Deps, name: str, paths: list[str], s: ProjectSettings, timeout: float
) -> asyncpg.Record:
    changes = _changes(paths, s)
    project = parse_project(name, "project.name")
    async with deps.pool.acquire(timeout=timeout) as conn, conn.transaction():
        before = await store.get_project(conn, project.entity, project.project, lock=True)
        if before is None:
            raise NotFound("project", name)
        row = await store.update_project(conn, before["id"], changes)
        fields = tuple(changes)
        await audit.record(
            conn,
            "project.update",
            target=name,
            project_id=row["id"],
            before=_doc(before, fields),
            after=_doc(row, fields),
        )
    deps.authorizer.invalidate()
    return row
