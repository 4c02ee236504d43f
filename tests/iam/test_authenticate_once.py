"""A call's API key is authenticated once: admission checks it when the headers arrive and hands the
principal on to the authorizing interceptor, without weakening what is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from strata.errors import StrataError
from strata.iam.v1 import iam_service_pb2 as iam
from strata_server.common.auth import admitted
from strata_server.common.context import Principal

from tests.fixtures.iam import KeysServer

WHO = iam.GetPrincipalRequest()


@pytest.fixture
def counted(keys_server: KeysServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every authorization header the server's authorizer authenticates, in order."""
    authorizer = keys_server.deps.authorizer
    real = authorizer.authenticate
    seen: list[str] = []

    async def counting(metadata: Any, peer: str) -> Any:
        seen.append(metadata.get("authorization", ""))
        return await real(metadata, peer)

    monkeypatch.setattr(authorizer, "authenticate", counting)
    yield seen


def test_a_unary_call_authenticates_its_key_once(keys_server: KeysServer, counted: list[str]) -> None:
    token = keys_server.user("once")
    with keys_server.client(token) as c:
        for _ in range(3):
            assert c.iam.GetPrincipal(WHO).actor.name == "once"
    assert counted.count(f"Bearer {token}") == 3


def test_a_revoked_key_is_still_refused_on_the_next_call(keys_server: KeysServer, counted: list[str]) -> None:
    token = keys_server.user("revoked-once")  # a user of its own: the test also runs alone
    key_name = f"apiKeys/{token.split('_')[1]}"
    with keys_server.client(token) as c:
        c.iam.GetPrincipal(WHO)
        c.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=key_name))
        with pytest.raises(StrataError) as e:
            c.iam.GetPrincipal(WHO)
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_API_KEY")


def test_the_handed_on_principal_serves_only_the_same_call_and_credentials_once() -> None:
    p = Principal(name="p", kind=1)
    admitted.remember("/s/M", "Bearer a", p)
    assert admitted.take("/s/M", "Bearer b") is None  # other credentials: nothing, and it is spent
    assert admitted.take("/s/M", "Bearer a") is None
    admitted.remember("/s/M", "Bearer a", p)
    assert admitted.take("/s/Other", "Bearer a") is None
    admitted.remember("/s/M", "Bearer a", p)
    assert admitted.take("/s/M", "Bearer a") is p
    assert admitted.take("/s/M", "Bearer a") is None
