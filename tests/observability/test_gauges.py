"""The metrics a workflow does not move: keys-mode auth cache hits and misses, WatchAlias watchers,
S3 failures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
import strata
from prometheus_client import REGISTRY
from strata.iam.v1 import iam_service_pb2 as iam
from strata.registry.v1 import registry_service_pb2 as rpb
from strata.registry.v1 import registry_service_pb2_grpc as rgrpc
from strata_server.common.blobstore.base import BlobStoreUnavailable
from strata_server.common.blobstore.s3 import S3BlobStore
from strata_server.common.config import S3Settings

from tests.fixtures.iam import KeysServer
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.processes import free_port
from tests.fixtures.wait import poll_until

from .conftest import scrape, start_observed, value

pytestmark = pytest.mark.timeout(120)


def _lookups(result: str) -> float:
    return REGISTRY.get_sample_value("strata_auth_cache_lookups_total", {"result": result}) or 0.0


def test_a_key_checked_again_is_an_auth_cache_hit(keys_server: KeysServer) -> None:
    # the listener empties the caches once it has subscribed: wait for that before warming them
    poll_until(keys_server.deps.authorizer.listener.listening.is_set, what="the auth listener")
    with keys_server.client() as client:
        client.iam.GetPrincipal(iam.GetPrincipalRequest())
        hits = _lookups("hit")
        client.iam.GetPrincipal(iam.GetPrincipalRequest())
    # the key verified by the first call is trusted from the cache (misses are not compared: the
    # counters are per process, and another server of this process may verify a key meanwhile)
    assert _lookups("hit") > hits


def test_open_watch_alias_calls_are_counted_while_they_wait(
    postgres: PostgresServer,
    s3_settings: S3Settings,
    tmp_path_factory: pytest.TempPathFactory,
    sdk_dirs: Path,
) -> None:
    server = start_observed(postgres, s3_settings, tmp_path_factory.mktemp("watched"))
    try:
        (sdk_dirs / "m.txt").write_text("model")
        with strata.init(project="obs", entity="tester", addr=server.addr) as run:
            art = strata.Artifact("watched", type="model")
            art.add_file(str(sdk_dirs / "m.txt"))
            run.log_artifact(art)
        before = value(scrape(server), "strata_alias_watchers")
        request = rpb.WatchAliasRequest(
            artifact="entities/tester/projects/obs/artifacts/watched", alias="production"
        )
        with grpc.insecure_channel(server.addr) as channel:
            calls = [rgrpc.RegistryServiceStub(channel).WatchAlias(request, timeout=60) for _ in range(2)]

            def watchers() -> float:
                return value(scrape(server), "strata_alias_watchers") - before

            poll_until(lambda: watchers() == 2, timeout=20, interval=0.1, what="two watchers")
            for call in calls:
                call.cancel()
            poll_until(lambda: watchers() == 0, timeout=20, interval=0.1, what="no watchers")
    finally:
        server.stop()


def _s3_sample(name: str, operation: str) -> float:
    return REGISTRY.get_sample_value(name, {"operation": operation}) or 0.0


def test_s3_calls_are_timed_and_failures_counted_but_a_missing_key_is_no_failure(
    s3_settings: S3Settings, tmp_path: Path
) -> None:
    async def go() -> None:
        store = S3BlobStore(**{**vars(s3_settings), "bucket": "obs-metrics"})
        await store.start()
        try:
            assert await store.size("no/such/key") is None
        finally:
            await store.close()
        down = S3BlobStore(**{**vars(s3_settings), "endpoint": f"127.0.0.1:{free_port()}"})
        try:
            with pytest.raises(BlobStoreUnavailable):
                await down.check()
        finally:
            await down.close()

    calls, errors = (
        _s3_sample("strata_s3_operation_duration_seconds_count", "size"),
        _s3_sample("strata_s3_operation_errors_total", "size"),
    )
    failed = _s3_sample("strata_s3_operation_errors_total", "check")
    asyncio.run(go())
    assert _s3_sample("strata_s3_operation_duration_seconds_count", "size") == calls + 1
    assert _s3_sample("strata_s3_operation_errors_total", "size") == errors
    assert _s3_sample("strata_s3_operation_errors_total", "check") == failed + 1
