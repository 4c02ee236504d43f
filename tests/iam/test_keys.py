"""API keys in keys mode: storage, verification, revocation and expiry, last-use tracking, cache
invalidation across processes, and the first-start bootstrap."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import hmac
import os
import random
import stat
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf import timestamp_pb2
from strata.common.v1 import actor_pb2
from strata.errors import StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata_server.common.auth import apikeys
from strata_server.common.auth.keys import KeysAuthorizer
from strata_server.common.errors import Unauthenticated

from tests.fixtures.iam import KeysServer, start_keys_server
from tests.fixtures.wait import poll_until

WHO = iam.GetPrincipalRequest()


def key_id(token: str) -> str:
    return apikeys.parse(token)[0]  # type: ignore[index]


def rejected(ks: KeysServer, token: str) -> str:
    """The reason a call with `token` is refused (fails the test if it is accepted)."""
    with ks.client(token) as c, pytest.raises(StrataError) as e:
        c.iam.GetPrincipal(WHO)
    assert e.value.code == grpc.StatusCode.UNAUTHENTICATED
    return e.value.reason


def refused(ks: KeysServer, token: str) -> bool:
    """Whether a call with `token` is refused as UNAUTHENTICATED (any other error fails the test)."""
    with ks.client(token) as c:
        try:
            c.iam.GetPrincipal(WHO)
        except StrataError as e:
            assert e.code == grpc.StatusCode.UNAUTHENTICATED
            return True
    return False


def fetch(ks: KeysServer, sql: str, *args: Any) -> list[Any]:
    async def go() -> list[Any]:
        async with ks.deps.pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    return ks.run(go())


@pytest.fixture(scope="module")
def alice(keys_server: KeysServer) -> str:
    return keys_server.user("alice")


def test_bootstrap_writes_the_admin_key_once_with_mode_0600(keys_server: KeysServer) -> None:
    """First start: user `admin` (server admin) and its key in $STRATA_DATA_DIR/admin-api-key (0600)."""
    path = keys_server.thread.settings.data_dir / "admin-api-key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with keys_server.client() as c:
        who = c.iam.GetPrincipal(WHO)
    assert (who.actor.name, who.actor.kind, who.server_admin) == ("admin", actor_pb2.ACTOR_KIND_USER, True)
    again = KeysAuthorizer(keys_server.deps.pool, keys_server.thread.settings)
    keys_server.run(again.start())  # a second start (another process) bootstraps nothing
    keys_server.run(again.stop())
    rows = fetch(
        keys_server,
        "SELECT count(*) AS n FROM api_keys k JOIN entities e ON e.id = k.user_id WHERE e.name = 'admin'",
    )
    assert rows[0]["n"] == 1
    assert path.read_text().strip() == keys_server.admin_key


def test_a_key_is_not_recoverable_from_the_database(keys_server: KeysServer, alice: str) -> None:
    """The row holds an HMAC under a pepper kept outside the database: not the secret, not sha256."""
    (row,) = fetch(keys_server, "SELECT * FROM api_keys WHERE id = $1", key_id(alice))
    everything = " ".join(repr(v) for v in row.values())
    secret = alice.split("_", 2)[2]
    assert secret not in everything and alice not in everything
    stored = bytes(row["secret_hash"])
    assert len(stored) == 32
    assert stored not in (hashlib.sha256(alice.encode()).digest(), hashlib.sha256(secret.encode()).digest())
    pepper = bytes.fromhex((keys_server.thread.settings.data_dir / "api-key-pepper").read_text())
    assert stored == hmac.digest(pepper, f"{key_id(alice)}:{secret}".encode(), "sha256")
    settings = fetch(keys_server, "SELECT value FROM iam_settings")
    assert all(pepper not in bytes(r["value"]) for r in settings)  # only a fingerprint of it
    assert row["prefix"] == alice[:19]


def _median_ns(measure: Callable[[Any, int], int], candidates: dict[str, Any]) -> dict[str, float]:
    """Median time per call of `measure(candidate, calls)` for each candidate. Candidates are timed in
    interleaved, shuffled rounds, so load on the machine hits every candidate alike; the median of
    many rounds drops the rounds a scheduler preempted."""
    rounds, calls = 61, 200
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    order = list(candidates)
    rng = random.Random(7)
    gc.disable()
    try:
        for _ in range(rounds):
            rng.shuffle(order)
            for name in order:
                samples[name].append(measure(candidates[name], calls) / calls)
    finally:
        gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def _assert_same_time(medians: dict[str, float], what: str) -> None:
    # Generous against noise: with the median of interleaved rounds, the constant-time paths measure
    # within 1% of each other even on a busy machine, while an early exit shows: a byte-by-byte
    # comparison loop measured ~1.3x, refusing malformed tokens before hashing ~2.3x.
    spread = max(medians.values()) / min(medians.values())
    assert spread < 1.25, f"{what} depends on how much matches: {medians} (ns per call)"


def _flip(text: str, index: int) -> str:
    """`text` with one character changed (a negative index counts from the end)."""
    index %= len(text)
    return text[:index] + ("B" if text[index] != "B" else "C") + text[index + 1 :]


def _timed(fn: Callable[[Any], object]) -> Callable[[Any, int], int]:
    """`fn` as a measurement: nanoseconds for `calls` calls of `fn(candidate)`."""

    def measure(candidate: Any, calls: int) -> int:
        begin = time.perf_counter_ns()
        for _ in range(calls):
            fn(candidate)
        return time.perf_counter_ns() - begin

    return measure


PEPPER, KEY_ID, SECRET = b"p" * 32, "a" * 12, "S" * 43
STORED = apikeys.hash_secret(PEPPER, KEY_ID, SECRET)


def test_verifying_a_secret_takes_the_same_time_however_much_of_it_matches() -> None:
    """A secret right up to its last character costs what a secret wrong from its first does."""
    candidates = {"right": SECRET, "last_wrong": _flip(SECRET, -1), "first_wrong": _flip(SECRET, 0)}
    verify = _timed(lambda secret: apikeys.verify(PEPPER, KEY_ID, secret, STORED))
    _assert_same_time(_median_ns(verify, candidates), "verifying a secret")


def test_comparing_with_the_stored_hash_takes_the_same_time_however_much_of_it_matches() -> None:
    """The keyed hash is compared in constant time: a stored hash that differs only in its last byte
    costs what one differing in its first byte does."""
    candidates = {
        "right": STORED,
        "last_wrong": STORED[:-1] + bytes([STORED[-1] ^ 1]),
        "first_wrong": bytes([STORED[0] ^ 1]) + STORED[1:],
    }
    compare = _timed(lambda stored: apikeys.verify(PEPPER, KEY_ID, SECRET, stored))
    _assert_same_time(_median_ns(compare, candidates), "comparing with the stored hash")


def test_authenticating_takes_the_same_time_however_much_of_the_key_matches(
    keys_server: KeysServer, alice: str
) -> None:
    """The server's whole key check (a cached key, as on every hot call) takes the same time for a
    near miss at the end of the secret as for one at its start, and refuses both alike."""
    authorizer = keys_server.deps.authorizer
    keys_server.run(authorizer.authenticate({"authorization": f"Bearer {alice}"}, "test"))  # cached

    def authenticate(token: str, calls: int) -> int:
        async def go() -> int:
            header = {"authorization": f"Bearer {token}"}
            begin = time.perf_counter_ns()
            for _ in range(calls):
                with contextlib.suppress(Unauthenticated):
                    await authorizer.authenticate(header, "test")
            return time.perf_counter_ns() - begin

        return keys_server.run(go())

    near, far = _flip(alice, -1), _flip(alice, 20)  # the secret starts at character 20
    _assert_same_time(_median_ns(authenticate, {"near": near, "far": far}), "authenticating a key")
    assert rejected(keys_server, far) == rejected(keys_server, near) == "INVALID_API_KEY"
    assert rejected(keys_server, "strata_" + "x" * 12 + "_" + "A" * 43) == "INVALID_API_KEY"


def test_only_bearer_strata_keys_are_accepted(keys_server: KeysServer, alice: str) -> None:
    """Wrong scheme or shape: UNAUTHENTICATED with INVALID_API_KEY; no key: UNAUTHENTICATED."""
    with keys_server.client("") as c:
        for header in (f"Basic {alice}", "Bearer", f"Bearer {alice}x"):
            with pytest.raises(StrataError) as e:
                c.iam.GetPrincipal(WHO, metadata=[("authorization", header)])
            assert (e.value.code, e.value.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_API_KEY")
        with pytest.raises(StrataError) as e:
            c.iam.GetPrincipal(WHO)
        assert e.value.reason == "UNAUTHENTICATED"


def test_revocation_takes_effect_on_the_next_call(keys_server: KeysServer) -> None:
    """A revoked key (even one just verified and cached) is refused at once; revoking is idempotent."""
    token = keys_server.key_for("entities/alice")
    with keys_server.client(token) as c:
        assert c.iam.GetPrincipal(WHO).actor.name == "alice"
        revoked = c.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=f"apiKeys/{key_id(token)}")).api_key
    assert revoked.HasField("revoke_time")
    assert rejected(keys_server, token) == "INVALID_API_KEY"
    with keys_server.client() as admin:
        again = admin.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=f"apiKeys/{key_id(token)}")).api_key
        assert again.revoke_time == revoked.revoke_time
        listed = admin.iam.ListApiKeys(iam.ListApiKeysRequest(owner="entities/alice", show_revoked=True))
        active = admin.iam.ListApiKeys(iam.ListApiKeysRequest(owner="entities/alice"))
    assert f"apiKeys/{key_id(token)}" in [k.name for k in listed.api_keys]
    assert f"apiKeys/{key_id(token)}" not in [k.name for k in active.api_keys]


def test_expired_keys_are_refused_and_expiry_must_be_in_the_future(keys_server: KeysServer) -> None:
    soon = timestamp_pb2.Timestamp()
    soon.FromDatetime(datetime.now(timezone.utc) + timedelta(hours=1))
    token = keys_server.key_for("entities/alice", expire_time=soon)
    with keys_server.client(token) as c:
        assert c.iam.GetPrincipal(WHO).actor.name == "alice"

    async def expire() -> None:
        async with keys_server.deps.pool.acquire() as conn:
            await conn.execute(
                "UPDATE api_keys SET expire_time = now() - interval '1 second' WHERE id = $1", key_id(token)
            )

    keys_server.run(expire())
    # the trigger's NOTIFY empties the cache: wait for it
    poll_until(lambda: refused(keys_server, token), what="the expired key to be refused")
    assert rejected(keys_server, token) == "INVALID_API_KEY"
    past = timestamp_pb2.Timestamp()
    past.FromDatetime(datetime.now(timezone.utc) - timedelta(minutes=1))
    with keys_server.client() as c, pytest.raises(StrataError) as e:
        c.iam.CreateApiKey(iam.CreateApiKeyRequest(owner="entities/alice", expire_time=past))
    assert (e.value.code, e.value.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "OUT_OF_RANGE")


def test_last_use_time_is_written_at_most_once_a_minute(keys_server: KeysServer) -> None:
    token = keys_server.key_for("entities/alice")
    with keys_server.client(token) as c:
        c.iam.GetPrincipal(WHO)
        sql = "SELECT last_use_time FROM api_keys WHERE id = $1"
        first = poll_until(  # written off the call path
            lambda: fetch(keys_server, sql, key_id(token))[0]["last_use_time"], what="last_use_time"
        )
        for _ in range(20):
            c.iam.GetPrincipal(WHO)
        listed = c.iam.ListApiKeys(iam.ListApiKeysRequest()).api_keys
    time.sleep(0.2)
    (row,) = fetch(keys_server, "SELECT last_use_time FROM api_keys WHERE id = $1", key_id(token))
    assert row["last_use_time"] == first
    mine = next(k for k in listed if k.name == f"apiKeys/{key_id(token)}")
    assert mine.last_use_time.ToDatetime(tzinfo=timezone.utc) == first


def test_revocation_reaches_another_process_through_notify(
    keys_server: KeysServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A second server on the same database, caching keys for an hour, refuses a key revoked through
    the first one as soon as PostgreSQL delivers the notification."""
    settings = keys_server.thread.settings
    other = start_keys_server(settings.data_dir, settings.pg_dsn, auth_cache_seconds=3600.0)
    try:
        listener = other.deps.authorizer.listener
        poll_until(listener.listening.is_set, what="the other process to listen")
        token = keys_server.key_for("entities/alice")
        with other.client(token) as c:
            assert c.iam.GetPrincipal(WHO).actor.name == "alice"  # now cached in `other`
        with keys_server.client(token) as c:
            c.iam.RevokeApiKey(iam.RevokeApiKeyRequest(name=f"apiKeys/{key_id(token)}"))
        poll_until(lambda: refused(other, token), what="the other process to refuse the revoked key")
        assert rejected(other, token) == "INVALID_API_KEY"
    finally:
        other.thread.stop()


def test_a_process_with_another_pepper_refuses_to_start(keys_server: KeysServer) -> None:
    """Keys hashed under one pepper cannot be checked under another: fail loudly at start instead."""
    settings = replace(
        keys_server.thread.settings, api_key_pepper="a-different-pepper-value-of-32-bytes-or-more"
    )

    async def start_stranger() -> None:  # on a loop of its own: SystemExit ends a loop it escapes from
        pool = await asyncpg.create_pool(settings.pg_dsn, min_size=1, max_size=1)
        try:
            await KeysAuthorizer(pool, settings).start()
        finally:
            await pool.close()

    with pytest.raises(SystemExit, match="pepper"):
        asyncio.run(start_stranger())


def test_service_accounts_act_under_their_team_name(keys_server: KeysServer, alice: str) -> None:
    """A service account authenticates as "team/name" (the author of what it does) and may manage its
    own keys, which the audit log attributes to it."""
    keys_server.team("keysteam", admin=alice)
    ci = keys_server.service_account("keysteam", "ci", role=iam_pb2.ROLE_MEMBER, as_key=alice)
    with keys_server.client(ci) as c:
        who = c.iam.GetPrincipal(WHO)
        assert (who.actor.name, who.actor.kind) == ("keysteam/ci", actor_pb2.ACTOR_KIND_SERVICE_ACCOUNT)
        assert who.service_account.name == "entities/keysteam/serviceAccounts/ci"
        rotated = c.iam.CreateApiKey(iam.CreateApiKeyRequest(description="rotation")).api_key
        assert rotated.owner == "entities/keysteam/serviceAccounts/ci"
        with pytest.raises(StrataError) as e:
            c.iam.CreateTeam(iam.CreateTeamRequest(team=iam_pb2.Team(name="entities/sa-team")))
        assert e.value.code == grpc.StatusCode.PERMISSION_DENIED
    rows = fetch(
        keys_server, "SELECT actor_name, actor_kind FROM audit_events WHERE target = $1", rotated.name
    )
    assert [(r["actor_name"], r["actor_kind"]) for r in rows] == [
        ("keysteam/ci", actor_pb2.ACTOR_KIND_SERVICE_ACCOUNT)
    ]


def test_the_break_glass_tool_mints_a_working_admin_key(keys_server: KeysServer) -> None:
    """python -m strata_server.iam.admin_key: a new server-admin key straight in the database, audited."""
    from strata_server.iam.admin_key import mint

    settings = keys_server.thread.settings
    pepper = apikeys.load_pepper(None, settings.data_dir / "api-key-pepper")
    token = asyncio.run(mint(settings.pg_dsn, pepper, "rescuer"))
    with keys_server.client(token) as c:
        who = c.iam.GetPrincipal(WHO)
    assert (who.actor.name, who.server_admin) == ("rescuer", True)
    rows = fetch(
        keys_server, "SELECT actor_name FROM audit_events WHERE target = $1", f"apiKeys/{key_id(token)}"
    )
    assert [r["actor_name"] for r in rows] == ["strata-system"]
