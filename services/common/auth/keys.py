"""STRATA_AUTH_MODE=keys: API keys, team roles, service accounts.

authenticate()  `authorization: Bearer strata_<id>_<secret>`. The key's row is found by its public id;
                the secret is checked against the stored HMAC in constant time (apikeys.verify). The
                verified key and its principal (with team roles) are cached per process, so a hot call
                costs one dict lookup and one HMAC; no credentials at all give ANONYMOUS, which only
                PUBLIC RPCs accept. last_use_time is written at most once a minute, off the call path.
authorize()     every check of the RPC's rule (policy.RULES) must pass, for every value of its
                field (repeated fields, artifact refs). Outsiders get PERMISSION_DENIED for a private
                project and for a project that does not exist alike, so existence never leaks; a
                caller who could read it gets past the check and the handler answers NOT_FOUND.
                A missing project is judged by the caller's role on its entity, which is how
                "create the project on first use" needs write access to the entity.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from strata.common.v1 import actor_pb2

from ..config import Settings
from ..context import ANONYMOUS, Principal
from ..db import Conn
from ..errors import InvalidArgument, PermissionDenied, Reason, Unauthenticated
from ..logging import get_logger
from ..names import ProjectName, parse_artifact_ref, parse_entity, parse_project
from . import Authorizer, apikeys, roles, store
from .bootstrap import bootstrap_admin
from .cache import AuthListener, TtlCache
from .policy import Access, Check, Rule, resource_values

log = get_logger(__name__)

_ACQUIRE_TIMEOUT = 10.0
_TOUCH_EVERY = 60.0
_PROJECT_ACCESS = (Access.PROJECT_READ, Access.PROJECT_WRITE, Access.PROJECT_ADMIN)
_NEEDS_RESOURCE = (*_PROJECT_ACCESS, Access.ENTITY_WRITE, Access.TEAM_READ, Access.TEAM_ADMIN)


@dataclass
class _Key:
    secret_hash: bytes  # b"" for an unknown id: never verifies
    principal: Principal | None  # None: unknown id, or the owner is gone
    revoked: bool
    expire_at: float | None  # unix seconds
    last_use: float  # unix seconds of the last recorded use


def _denied(principal: Principal, access: Access, resource: str | None) -> PermissionDenied:
    what = resource or "this server"
    return PermissionDenied(Reason.PERMISSION_DENIED, f"{principal.name} lacks {access.value} on {what}")


class KeysAuthorizer(Authorizer):
    mode = "keys"

    def __init__(self, pool: asyncpg.Pool, settings: Settings, dsn: str | None = None) -> None:
        self.pool = pool
        self.settings = settings
        self.pepper = b""
        self.key_file = settings.admin_key_path
        ttl = settings.auth_cache_seconds
        self._keys: TtlCache[str, _Key] = TtlCache(ttl)
        self._projects: TtlCache[tuple[str, str], store.ProjectRef] = TtlCache(ttl)
        self._entities: TtlCache[str, tuple[int, str]] = TtlCache(ttl)
        self._projects_by_id: TtlCache[int, store.ProjectRef] = TtlCache(ttl)
        self._loading: dict[str, asyncio.Future[_Key]] = {}
        self._touching: set[asyncio.Task[None]] = set()
        self.listener = AuthListener(dsn, self.invalidate) if dsn else None
        self.streams.interval = max(1.0, ttl)

    # --- lifecycle ---

    async def start(self) -> None:
        s = self.settings
        self.pepper = await asyncio.to_thread(apikeys.load_pepper, s.api_key_pepper, s.pepper_file)
        async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as conn:
            if not await store.check_pepper(conn, apikeys.fingerprint(self.pepper)):
                raise SystemExit(
                    "this database's API keys were made with another pepper: set STRATA_API_KEY_PEPPER "
                    f"(or {s.pepper_file}) to the value the other processes use"
                )
        await bootstrap_admin(self.pool, self.pepper, self.key_file)
        if self.listener is not None:
            self.listener.start()

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        await self.streams.stop()
        for task in list(self._touching):
            task.cancel()
        await asyncio.gather(*self._touching, return_exceptions=True)

    def invalidate(self) -> None:
        """Forget every cached key, role and project (a change that may narrow access committed)."""
        self._keys.clear()
        self._projects.clear()
        self._entities.clear()
        self._projects_by_id.clear()
        self._loading.clear()  # loads already running may predate the change: later calls start anew
        self.streams.changed()  # open streams are re-checked against the new state

    def describe(self) -> str:
        if Path(self.key_file).exists():
            return f"keys (admin key: strata login --key-file {self.key_file})"
        return "keys"

    # --- authentication ---

    async def authenticate(self, metadata: Mapping[str, str], peer: str) -> Principal:
        header = metadata.get("authorization")
        if not header:
            return ANONYMOUS
        scheme, _, token = header.partition(" ")
        parsed = apikeys.parse(token.strip()) if scheme.lower() == "bearer" else None
        if parsed is None:
            raise Unauthenticated(Reason.INVALID_API_KEY, "authorization must be 'Bearer <strata API key>'")
        key_id, secret = parsed
        key = self._keys.get(key_id) or await self._load_key(key_id)
        if key.principal is None or not apikeys.verify(self.pepper, key_id, secret, key.secret_hash):
            raise Unauthenticated(Reason.INVALID_API_KEY, "unknown API key")
        now = time.time()
        if key.revoked:
            raise Unauthenticated(Reason.INVALID_API_KEY, f"API key {key_id} was revoked")
        if key.expire_at is not None and now >= key.expire_at:
            raise Unauthenticated(Reason.INVALID_API_KEY, f"API key {key_id} expired")
        if now - key.last_use >= _TOUCH_EVERY:
            key.last_use = now
            self._touch(key_id)
        return key.principal

    async def _load_key(self, key_id: str) -> _Key:
        """One database load per key id at a time, however many calls wait for it."""
        future = self._loading.get(key_id)
        if future is None:
            future = asyncio.ensure_future(self._fetch_key(key_id))
            self._loading[key_id] = future
            future.add_done_callback(lambda f: self._loaded(key_id, f))
        return await asyncio.shield(future)

    def _loaded(self, key_id: str, future: asyncio.Future[_Key]) -> None:
        if self._loading.get(key_id) is future:
            del self._loading[key_id]
        if not future.cancelled():
            future.exception()  # retrieved: no "never retrieved" warning when every waiter left

    async def _fetch_key(self, key_id: str) -> _Key:
        generation = self._keys.generation
        async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as conn:
            row = await store.load_key(conn, key_id)
            principal = await self._principal(conn, row) if row is not None else None
        if row is None:
            key = _Key(b"", None, False, None, 0.0)
        else:
            key = _Key(
                bytes(row.secret_hash),
                principal,
                row.revoke_time is not None,
                row.expire_time.timestamp() if row.expire_time else None,
                row.last_use_time.timestamp() if row.last_use_time else 0.0,
            )
        self._keys.put(key_id, key, generation)
        return key

    async def _principal(self, conn: Conn, row: store.KeyRow) -> Principal | None:
        if row.user_id is not None:
            user = await store.load_user(conn, row.user_id)
            if user is None:
                return None
            name, server_admin, team_roles = user
            return Principal(
                name=name,
                kind=actor_pb2.ACTOR_KIND_USER,
                user_id=row.user_id,
                server_admin=server_admin,
                api_key_id=row.id,
                roles=team_roles,
            )
        assert row.service_account_id is not None  # a key has exactly one owner (a CHECK constraint)
        sa = await store.load_service_account(conn, row.service_account_id)
        if sa is None:
            return None
        return Principal(
            name=f"{sa['team']}/{sa['name']}",
            kind=actor_pb2.ACTOR_KIND_SERVICE_ACCOUNT,
            service_account_id=sa["id"],
            team_id=sa["team_id"],
            api_key_id=row.id,
            role=sa["role"],
            project_ids=frozenset(sa["project_ids"]) if sa["project_ids"] else None,
        )

    def _touch(self, key_id: str) -> None:
        async def touch() -> None:
            try:
                async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as conn:
                    await store.touch_key(conn, key_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # best effort: a missed last_use_time is not worth failing a call
                log.warning("api_key_touch_failed", key_id=key_id, error=type(exc).__name__)

        if len(self._touching) < 1000:
            task = asyncio.create_task(touch())
            self._touching.add(task)
            task.add_done_callback(self._touching.discard)

    # --- authorization ---

    async def authorize(self, principal: Principal, rule: Rule, request: object) -> None:
        if principal.anonymous:
            raise Unauthenticated(
                Reason.UNAUTHENTICATED,
                "send 'authorization: Bearer <api key>' (strata login, or STRATA_API_KEY)",
            )
        default: list[ProjectName | None] = []
        audit: list[str] | None = None
        for index, check in enumerate(rule.checks):
            values = resource_values(request, check.field) if check.field else []
            if check.access is Access.AUDIT_READ:
                audit = (audit or []) + values
                continue
            if not values and check.access in _NEEDS_RESOURCE:
                if index == 0:  # the resource that decides the call: required
                    raise InvalidArgument(
                        _field(check), Reason.FIELD_REQUIRED, f"{_field(check)} is required"
                    )
                continue  # an optional secondary resource (e.g. the run of a new artifact version)
            for value in values or (None,):
                ref_default = self._ref_default(request, rule, default) if _is_ref(check) else None
                if not await self._allowed(principal, check.access, value, check, ref_default):
                    raise _denied(principal, check.access, value)
        if audit is not None:
            await self._authorize_audit(principal, audit)

    async def _authorize_audit(self, principal: Principal, values: list[str]) -> None:
        """Project admins read their projects' events, entity admins their entity's; the rest needs
        a server admin."""
        if not values and not principal.server_admin:
            raise _denied(principal, Access.AUDIT_READ, None)
        for value in values:
            if not await self._allowed(principal, Access.AUDIT_READ, value, None, None):
                raise _denied(principal, Access.AUDIT_READ, value)

    async def require(self, principal: Principal, access: Access, resource: str | None) -> None:
        if principal.anonymous:
            raise Unauthenticated(Reason.UNAUTHENTICATED, "credentials required")
        if principal.server_admin:
            return
        if not await self._allowed(principal, access, resource or None, None, None):
            raise _denied(principal, access, resource)

    async def readable_project_ids(
        self, principal: Principal, project_ids: Iterable[int], conn: Conn | None = None
    ) -> set[int]:
        ids = set(project_ids)
        if not ids or principal.server_admin:
            return ids
        refs = {i: ref for i in ids if (ref := self._projects_by_id.get(i)) is not None}
        missing = sorted(ids - refs.keys())
        if missing:
            generation = self._projects_by_id.generation
            if conn is not None:
                found = await store.projects_by_id(conn, missing)
            else:
                async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as own:
                    found = await store.projects_by_id(own, missing)
            for project_id, ref in found.items():
                self._projects_by_id.put(project_id, ref, generation)
            refs.update(found)
        return {i for i, ref in refs.items() if roles.project_role(principal, ref) >= roles.VIEWER}

    def _ref_default(
        self, request: object, rule: Rule, cache: list[ProjectName | None]
    ) -> ProjectName | None:
        """Project a relative artifact ref resolves in: `default_parent`, else the rule's first
        (non-ref) resource, e.g. the run of UseArtifactVersion."""
        if not cache:
            cache.append(_default_project(request, rule))
        return cache[0]

    async def _allowed(
        self,
        p: Principal,
        access: Access,
        value: str | None,
        check: Check | None,
        ref_default: ProjectName | None,
    ) -> bool:
        if access in (Access.PUBLIC, Access.AUTHENTICATED):
            return True
        if access is Access.SERVER_ADMIN:
            return p.server_admin
        if access is Access.KEY_OWNER:
            return await self._key_owner(p, value)
        field = _field(check)
        if value is None:
            return p.server_admin
        if access in _PROJECT_ACCESS or (access is Access.AUDIT_READ and "/projects/" in value):
            ref = self._cached_project(value)
            if ref is None:
                project = _project_of(value, field, check is not None and _is_ref(check), ref_default)
                ref = await self._project(project)
            return ref is not None and roles.project_role(p, ref) >= roles.MIN_ROLE[access]
        entity = await self._entity(parse_entity(value, field))
        if entity is None:
            return p.server_admin
        if access in (Access.TEAM_READ, Access.TEAM_ADMIN):
            return roles.team_role(p, entity[0]) >= roles.MIN_ROLE[access]
        return roles.entity_role(p, entity[0]) >= roles.MIN_ROLE[access]

    async def _key_owner(self, p: Principal, value: str | None) -> bool:
        """The caller itself; a team admin for its service accounts; a server admin for anyone."""
        if value is None or p.server_admin:
            return True
        parts = value.split("/")
        if len(parts) == 2 and parts[0] == "entities":  # the caller itself: no query needed
            return p.user_id is not None and parts[1] == p.name
        key = len(parts) == 2 and parts[0] == "apiKeys"
        account = len(parts) == 4 and parts[0] == "entities" and parts[2] == "serviceAccounts"
        if not (key or account):
            raise InvalidArgument("owner", Reason.INVALID_NAME, f"{value!r} names no API key owner")
        async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as conn:
            if key:
                owner = await store.key_owner(conn, parts[1])
            else:
                sa = await store.find_service_account(conn, parts[1], parts[3])
                owner = (None, sa[0], sa[1]) if sa is not None else None
        if owner is None:
            return False
        user_id, sa_id, team_id = owner
        if user_id is not None:
            return user_id == p.user_id
        return sa_id == p.service_account_id or (
            p.user_id is not None and team_id is not None and p.roles.get(team_id) == roles.ADMIN
        )

    def _cached_project(self, value: str) -> store.ProjectRef | None:
        """The hot path: a resource name whose project is cached needs no parsing (cached names exist,
        so they are valid)."""
        parts = value.split("/", 4)
        if len(parts) >= 4 and parts[0] == "entities" and parts[2] == "projects":
            return self._projects.get((parts[1], parts[3]))
        return None

    async def _project(self, name: ProjectName) -> store.ProjectRef | None:
        key = (name.entity, name.project)
        ref = self._projects.get(key)
        if ref is not None:
            return ref
        generation = self._projects.generation
        async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as conn:
            ref = await store.find_project(conn, name.entity, name.project)
        if ref is not None and ref.id is not None:  # a missing project is not cached: it may appear
            self._projects.put(key, ref, generation)
        return ref

    async def _entity(self, name: str) -> tuple[int, str] | None:
        found = self._entities.get(name)
        if found is not None:
            return found
        generation = self._entities.generation
        async with self.pool.acquire(timeout=_ACQUIRE_TIMEOUT) as conn:
            found = await store.find_entity(conn, name)
        if found is not None:
            self._entities.put(name, found, generation)
        return found


def _is_ref(check: Check) -> bool:
    return bool(check.field and check.field.startswith("ref:"))


def _field(check: Check | None) -> str:
    if check is None or not check.field:
        return "resource"
    return check.field.split(":", 1)[-1].replace("[]", "")


def _project_of(value: str, field: str, is_ref: bool, default: ProjectName | None) -> ProjectName:
    """The project of a project-scoped resource name (entities/e/projects/p/...) or artifact ref."""
    if value.startswith("entities/"):
        parts = value.split("/", 4)
        if len(parts) >= 4 and parts[2] == "projects":
            return parse_project("/".join(parts[:4]), field)
        raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} {value!r} names no project")
    if is_ref:
        return parse_artifact_ref(value, default, field).artifact.project
    raise InvalidArgument(field, Reason.INVALID_NAME, f"{field} {value!r} is not a resource name")


def _default_project(request: object, rule: Rule) -> ProjectName | None:
    default_parent = getattr(request, "default_parent", "")
    if isinstance(default_parent, str) and default_parent:
        return parse_project(default_parent, "default_parent")
    primary = rule.primary
    if primary.field and not _is_ref(primary) and primary.access in _PROJECT_ACCESS:
        values = resource_values(request, primary.field)
        if values:
            return _project_of(values[0], _field(primary), False, None)
    return None
