"""Per-call context shared by the interceptor, handlers, audit and auth: who is calling, from where."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TypeAlias

from strata.common.v1 import actor_pb2


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. `kind` is a strata.common.v1.ActorKind value.

    Users carry their team roles (`roles`: team entity id -> strata.iam.v1.Role value); a service
    account carries its team (`team_id`), its `role` and, when limited, its `project_ids`.
    """

    name: str
    kind: int
    user_id: int | None = None
    service_account_id: int | None = None
    team_id: int | None = None  # service accounts: their team
    server_admin: bool = False
    api_key_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict, compare=False)
    roles: dict[int, int] = field(default_factory=dict, compare=False)
    role: int = 0  # service accounts: their role in the team's projects
    project_ids: frozenset[int] | None = None  # service accounts: limited to these projects

    def actor(self) -> actor_pb2.Actor:
        return actor_pb2.Actor(name=self.name, kind=self.kind)  # type: ignore[arg-type]  # reason: protoc's .pyi takes only its enum class; any int is valid

    @property
    def anonymous(self) -> bool:
        return self.kind == actor_pb2.ACTOR_KIND_UNSPECIFIED


SYSTEM = Principal(name="strata-system", kind=actor_pb2.ACTOR_KIND_SYSTEM, server_admin=True)
ANONYMOUS = Principal(name="anonymous", kind=actor_pb2.ACTOR_KIND_UNSPECIFIED)


@dataclass(frozen=True)
class CallInfo:
    rpc: str
    request_id: str
    peer: str
    principal: Principal


_current: ContextVar[CallInfo | None] = ContextVar("strata_call", default=None)
CallToken: TypeAlias = "Token[CallInfo | None]"  # what set_call returns and reset_call takes


def set_call(info: CallInfo) -> CallToken:
    return _current.set(info)


def reset_call(token: CallToken) -> None:
    _current.reset(token)


def current_call() -> CallInfo | None:
    return _current.get()


def current_principal() -> Principal:
    """The caller of the RPC being served; the system principal in background tasks."""
    info = _current.get()
    return info.principal if info is not None else SYSTEM
