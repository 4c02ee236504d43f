"""Authentication and authorization, in one place: the `Authorizer` interface and `make_authorizer`.

The interceptor calls `Authorizer.authenticate()` with the call's metadata, then `authorize()` with the
RPC's rule from policy.RULES and the request (or the first message of a stream). Domain code that
must decide something the table cannot (moving a protected alias needs PROJECT_ADMIN; lineage answers
leave out nodes in projects the caller cannot read) calls `require()` / `readable_project_ids()` on the
same object, so every decision is made here.

Modes (STRATA_AUTH_MODE):
  open-local  no credentials; every caller is the local user with full rights. Refused unless the
              server binds to loopback only: a single-user laptop mode.
  keys        API keys required ("authorization: Bearer <key>"): keys.KeysAuthorizer, with the
              role rules in roles.py. The default; the first start creates an admin and its key.

The package:
  policy.py     the per-RPC permission table (RULES) every call is checked against
  roles.py      which role a principal holds on an entity, project or team (pure functions)
  keys.py       the keys-mode authorizer; cache.py its caches and change listener
  apikeys.py    the API-key format, its keyed hash and the server's pepper
  store.py      every SQL statement on API keys and what authorization reads
  bootstrap.py  the first start's admin and key
  streams.py    the open long-lived calls, re-checked when access may have narrowed
"""

from __future__ import annotations

import functools
import getpass
import ipaddress
from collections.abc import Iterable, Mapping

import asyncpg
from strata.common.v1 import actor_pb2

from ..config import Settings
from ..context import Principal
from ..db import Conn
from ..errors import Reason
from .policy import Access, Rule
from .streams import StreamRegistry


def is_loopback_addr(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Authorizer:
    """Interface every auth mode implements."""

    mode = "abstract"
    access_can_narrow = True  # False: nothing ever revokes access, streams need no re-check

    async def start(self) -> None:
        """Called once the pool is open (bootstrap, caches)."""

    async def stop(self) -> None:
        """Called before the pool closes."""

    def invalidate(self) -> None:
        """Forget cached keys and roles (called after a change that may narrow access commits)."""

    @functools.cached_property
    def streams(self) -> StreamRegistry:
        """The open long-lived calls, re-checked after invalidate() (streams.py)."""
        return StreamRegistry()

    def describe(self) -> str:
        """One line for the start-up banner."""
        return self.mode

    async def authenticate(self, metadata: Mapping[str, str], peer: str) -> Principal:
        raise NotImplementedError

    async def authorize(self, principal: Principal, rule: Rule, request: object) -> None:
        raise NotImplementedError

    async def require(self, principal: Principal, access: Access, resource: str | None) -> None:
        raise NotImplementedError

    async def readable_project_ids(
        self, principal: Principal, project_ids: Iterable[int], conn: Conn | None = None
    ) -> set[int]:
        """The ids among `project_ids` the principal may read. Pass `conn` when the caller already
        holds a pool connection (no second one is taken then; a miss is looked up on it)."""
        raise NotImplementedError


class OpenLocalAuthorizer(Authorizer):
    """No credentials: everyone is the local OS user, with every right. Loopback only."""

    mode = "open-local"
    access_can_narrow = False

    def describe(self) -> str:
        return "open-local (no keys; every caller is the local user)"

    def __init__(self) -> None:
        try:
            user = getpass.getuser()
        except Exception:
            user = "local"
        self.principal = Principal(name=user, kind=actor_pb2.ACTOR_KIND_LOCAL, server_admin=True)

    async def authenticate(self, metadata: Mapping[str, str], peer: str) -> Principal:
        return self.principal

    async def authorize(self, principal: Principal, rule: Rule, request: object) -> None:
        return None

    async def require(self, principal: Principal, access: Access, resource: str | None) -> None:
        return None

    async def readable_project_ids(
        self, principal: Principal, project_ids: Iterable[int], conn: Conn | None = None
    ) -> set[int]:
        return set(project_ids)


def make_authorizer(settings: Settings, pool: asyncpg.Pool, dsn: str | None = None) -> Authorizer:
    mode, addr = settings.auth_mode, settings.addr
    if mode == "open-local":
        if not is_loopback_addr(addr):
            raise SystemExit(
                f"STRATA_AUTH_MODE=open-local needs a loopback address, not {addr!r}; "
                "use STRATA_AUTH_MODE=keys to serve other machines"
            )
        return OpenLocalAuthorizer()
    if mode == "keys":
        from .keys import KeysAuthorizer

        return KeysAuthorizer(pool, settings, dsn)
    raise SystemExit(f"unknown STRATA_AUTH_MODE {mode!r}; expected open-local or keys")


__all__ = ["Authorizer", "OpenLocalAuthorizer", "Reason", "is_loopback_addr", "make_authorizer"]
