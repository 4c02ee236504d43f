"""The authorization matrix: every RPC of every service x every kind of caller, generated from the
services' descriptors and common.auth.policy.RULES, so a new RPC without a rule fails here.

World: team `alpha` (admin ana, member mel, viewer val), its private project alpha/vision, service
account alpha/ci (member, limited to alpha/vision), and team `beta` (admin bea: "a member of another
team"). Every request names resources in alpha/vision or team alpha. "Allowed" means the call got
past the interceptor (any status but UNAUTHENTICATED / PERMISSION_DENIED: handlers of other areas may
still answer UNIMPLEMENTED, or INVALID_ARGUMENT for the placeholder names); "denied" means
UNAUTHENTICATED (reason UNAUTHENTICATED, or INVALID_API_KEY for a bad, revoked or expired key) or
PERMISSION_DENIED (reason PERMISSION_DENIED).

The expectations below are written out from the documented roles (docs/guides/teams-keys-audit.md#who-may-do-what), independently of
services/common/auth/roles.py.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from strata.errors import StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata_server.__main__ import all_specs
from strata_server.common.auth.policy import RULES, Access

from tests.fixtures.iam import KeysServer

PROJECT = "entities/alpha/projects/vision"
RUN = f"{PROJECT}/runs/r1"
REF = "alpha/vision/model:v0"
TEAM = "entities/alpha"
PERSONAS = (
    "anonymous",
    "bad_key",
    "malformed_key",
    "revoked_key",
    "expired_key",
    "viewer",
    "member",
    "admin",
    "service_account",
    "other_team",
    "server_admin",
)
# Role each persona holds on alpha/vision (the service account: member, within its project scope).
PROJECT_ROLE = {
    "viewer": 1,
    "member": 2,
    "admin": 3,
    "service_account": 2,
    "other_team": 0,
    "server_admin": 3,
}


def allowed(persona: str, access: Access) -> bool:
    role = PROJECT_ROLE[persona]
    return {
        Access.PUBLIC: True,
        Access.AUTHENTICATED: True,
        Access.SERVER_ADMIN: persona == "server_admin",
        Access.PROJECT_READ: role >= 1,
        Access.PROJECT_WRITE: role >= 2,
        Access.PROJECT_ADMIN: role >= 3,
        # creating projects in alpha: members and admins; the service account is limited to a project
        Access.ENTITY_WRITE: persona in ("member", "admin", "server_admin"),
        Access.TEAM_READ: persona in ("viewer", "member", "admin", "service_account", "server_admin"),
        Access.TEAM_ADMIN: persona in ("admin", "server_admin"),
        # the target is another service account of alpha (alpha/spare), or its key
        Access.KEY_OWNER: persona in ("admin", "server_admin"),
        Access.AUDIT_READ: persona in ("admin", "server_admin"),
    }[access]


def expected(persona: str, method: str) -> tuple[str, str] | None:
    """None: allowed; else (status code name, reason)."""
    rule = RULES[method]
    if all(c.access is Access.PUBLIC for c in rule.checks):
        return None
    if persona == "anonymous":
        return ("UNAUTHENTICATED", "UNAUTHENTICATED")
    if persona.endswith("_key"):
        return ("UNAUTHENTICATED", "INVALID_API_KEY")
    if all(allowed(persona, c.access) for c in rule.checks):
        return None
    return ("PERMISSION_DENIED", "PERMISSION_DENIED")


def _value(method: str, access: Access, field: str, world: dict[str, str]) -> str:
    if field.startswith("ref:"):
        return REF
    if access in (Access.TEAM_READ, Access.TEAM_ADMIN, Access.ENTITY_WRITE) or field.endswith("entity"):
        return TEAM
    if access is Access.KEY_OWNER:
        return world["spare_key"] if field == "name" else "entities/alpha/serviceAccounts/spare"
    field = field.removesuffix("[]")
    if method.startswith("/strata.iam.") or field.endswith("parent") or access is Access.AUDIT_READ:
        return PROJECT
    return RUN


def _set(message: Any, path: str, value: str) -> None:
    parts = path.split(":", 1)[-1].split(".")
    for part in parts[:-1]:
        message = getattr(message, part)
    last = parts[-1]
    if last.endswith("[]"):
        getattr(message, last[:-2]).append(value)
    else:
        setattr(message, last, value)


def _methods() -> Iterator[tuple[str, Any]]:
    for spec in all_specs():
        package, service = spec.full_name.rsplit(".", 1)
        module = importlib.import_module(f"strata.{package.split('.')[1]}.v1.{spec.name}_service_pb2")
        for m in module.DESCRIPTOR.services_by_name[service].methods:
            yield f"/{spec.full_name}/{m.name}", m


METHODS = dict(_methods())


def build_request(method: str, world: dict[str, str]) -> Any:
    descriptor = METHODS[method].input_type
    cls = descriptor_pool.Default().FindMessageTypeByName(descriptor.full_name)._concrete_class
    request = cls()
    for check in RULES[method].checks:
        if check.field:
            _set(request, check.field, _value(method, check.access, check.field, world))
    return request


def call(client: Any, method: str, request: Any) -> tuple[str, str] | None:
    """Make the call the way its shape requires; None when it succeeded."""
    service, rpc = method.strip("/").split("/")
    stub = getattr(client, service.split(".")[1])
    m = METHODS[method]
    try:
        arg = iter([request]) if m.client_streaming else request
        result = getattr(stub, rpc)(arg, timeout=10)
        if m.server_streaming:
            for _ in result:
                break
        return None
    except StrataError as e:
        return (e.code.name, e.reason)


@pytest.fixture(scope="module")
def world(keys_server: KeysServer) -> Iterator[dict[str, Any]]:
    ks = keys_server
    keys = {"server_admin": ks.admin_key, "anonymous": ""}
    keys["admin"] = ks.user("ana")
    keys["member"] = ks.user("mel")
    keys["viewer"] = ks.user("val")
    keys["other_team"] = ks.user("bea")
    ks.team("alpha", admin=keys["admin"], members={"mel": iam_pb2.ROLE_MEMBER, "val": iam_pb2.ROLE_VIEWER})
    ks.team("beta", admin=keys["other_team"])
    ks.project("alpha", "vision", as_key=keys["admin"])
    ks.project("beta", "secret", as_key=keys["other_team"])
    keys["service_account"] = ks.service_account("alpha", "ci", projects=[PROJECT], as_key=keys["admin"])
    spare = ks.service_account("alpha", "spare", as_key=keys["admin"])
    with ks.client(keys["admin"]) as c:
        spare_id = c.iam.ListApiKeys(iam.ListApiKeysRequest(owner="entities/alpha/serviceAccounts/spare"))
    revoked = ks.key_for("entities/mel")
    with ks.client(revoked) as c:
        c.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=f"apiKeys/{revoked[7:19]}"))
    keys["revoked_key"] = revoked
    expired = ks.key_for("entities/mel")
    ks.run(_expire(ks, expired[7:19]))
    keys["expired_key"] = expired
    keys["bad_key"] = keys["member"][:-6] + ("AAAAAA" if not keys["member"].endswith("AAAAAA") else "BBBBBB")
    keys["malformed_key"] = "not-a-strata-key"
    clients = {p: ks.client(keys[p]) for p in PERSONAS}
    yield {"clients": clients, "spare_key": spare_id.api_keys[0].name, "spare_secret": spare}
    for c in clients.values():
        c.close()


async def _expire(ks: KeysServer, key_id: str) -> None:
    async with ks.deps.pool.acquire() as conn:
        await conn.execute(
            "UPDATE api_keys SET expire_time = now() - interval '1 minute' WHERE id = $1", key_id
        )
    ks.deps.authorizer.invalidate()


def test_every_rpc_of_every_service_is_in_the_matrix() -> None:
    """Generated from the services' descriptors: an RPC without a rule is reported here."""
    assert len(METHODS) > 60
    assert sorted(m for m in METHODS if m not in RULES) == []


@pytest.mark.parametrize("method", sorted(METHODS))
def test_authorization_matrix(world: dict[str, Any], method: str) -> None:
    """Every caller kind gets exactly the documented allow/deny (with the right reason) on this RPC."""
    assert method in RULES, f"{method} has no permission rule"
    request = build_request(method, world)
    wrong = {}
    for persona in PERSONAS:
        got = call(world["clients"][persona], method, request)
        want = expected(persona, method)
        passed = got is None or got[0] not in ("UNAUTHENTICATED", "PERMISSION_DENIED")
        if (want is None and not passed) or (want is not None and got != want):
            wrong[persona] = {"expected": want or "allowed", "got": got or "OK"}
    assert wrong == {}


def test_health_answers_every_caller(world: dict[str, Any]) -> None:
    """Health is PUBLIC: anonymous callers and callers with bad keys alike (Kubernetes probes)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    for persona in ("anonymous", "bad_key", "revoked_key"):
        client = world["clients"][persona]
        stub = health_pb2_grpc.HealthStub(client.channel)
        reply = stub.Check(health_pb2.HealthCheckRequest(), metadata=client.call_metadata(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_another_teams_project_is_denied_like_a_missing_one(world: dict[str, Any]) -> None:
    """Outsiders cannot tell a private project from a missing one: both are PERMISSION_DENIED."""
    client = world["clients"]["member"]
    for name in (
        "entities/beta/projects/secret",
        "entities/beta/projects/nope",
        "entities/nobody/projects/x",
    ):
        with pytest.raises(StrataError) as e:
            client.iam.GetProject(iam.GetProjectRequest(name=name))
        assert (e.value.code, e.value.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED")
    with pytest.raises(StrataError) as e:  # a member of the owning team learns it is missing
        client.iam.GetProject(iam.GetProjectRequest(name="entities/alpha/projects/nope"))
    assert e.value.code == grpc.StatusCode.NOT_FOUND
