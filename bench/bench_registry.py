"""Registry benchmarks (`make bench BENCH_ARGS=registry`, `--quick` for a smoke run).

1. Resolve `name:alias` latency (p50/p99) through a real server, next to the floor of any RPC on the same
   channel (gRPC health Check) measured in the same run.
2. log_artifact of a 10,000-file directory: the first log (every file uploaded) vs. the same directory
   with 1 file changed (only that file uploaded: the rest dedupe), vs. new_draft() with the one change
   (no re-hashing of the other files). Files uploaded are counted from the server's blob table.
Components are real: PostgreSQL (pgserver), the local blob folder, grpc.aio server, the SDK.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from grpc_health.v1 import health_pb2, health_pb2_grpc
from strata.registry.v1 import registry_service_pb2 as pb

from bench.quick import quick
from bench.serving import postgres_database, server_thread
from tests.fixtures.servers import ServerThread
from tests.registry.helpers import log_version, sql


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def bench_resolve(server: ServerThread, n: int) -> None:
    with server.client() as client:
        log_version(server, client, "bench", "registry", "model", {"w": b"0"}, type="model")
        log_version(
            server, client, "bench", "registry", "model", {"w": b"1"}, type="model", aliases=["production"]
        )
        request = pb.ResolveArtifactVersionRequest(ref="bench/registry/model:production")
        health = health_pb2_grpc.HealthStub(client.channel)
        for _ in range(200):  # warm up both paths
            client.registry.ResolveArtifactVersion(request)
            health.Check(health_pb2.HealthCheckRequest())
        resolve, floor = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            client.registry.ResolveArtifactVersion(request)
            t1 = time.perf_counter()
            health.Check(health_pb2.HealthCheckRequest())
            t2 = time.perf_counter()
            resolve.append(t1 - t0)
            floor.append(t2 - t1)
    (r50, r99), (f50, f99) = _percentiles(resolve), _percentiles(floor)
    print(f"resolve name:alias      p50 {r50 * 1e3:7.3f} ms   p99 {r99 * 1e3:7.3f} ms   ({n} calls)")
    print(
        f"baseline health Check   p50 {f50 * 1e3:7.3f} ms   p99 {f99 * 1e3:7.3f} ms   (RPC floor, same channel)"
    )
    print(f"ratio resolve/floor     p50 {r50 / f50:5.2f}x")


def _write_tree(root: Path, files: int, size: int) -> None:
    for i in range(files):
        folder = root / f"shard-{i // 500:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"sample-{i:05d}.bin").write_bytes(os.urandom(size))


def _blob_count(server: ServerThread) -> int:
    return sql(server, "SELECT count(*) AS n FROM blobs")[0]["n"]


def _timed_log(server: ServerThread, run: object, make: object) -> tuple[float, int, object]:
    before = _blob_count(server)
    t0 = time.perf_counter()
    art = make()  # type: ignore[operator]
    run.log_artifact(art)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t0
    return elapsed, _blob_count(server) - before, art


def bench_log_dataset(server: ServerThread, files: int, size: int) -> None:
    import strata
    from strata.sdk import transfer

    os.environ["STRATA_QUIET"] = "1"
    work = Path(tempfile.mkdtemp(prefix="strata-bench-"))
    try:
        data = work / "data"
        _write_tree(data, files, size)
        run = strata.init(project="registry-bench", entity="bench", job_type="bench")

        def full() -> object:
            art = strata.Artifact("dataset", type="dataset")
            art.add_dir(data)
            return art

        first_s, first_n, first = _timed_log(server, run, full)
        changed = data / "shard-000" / "sample-00007.bin"
        changed.write_bytes(os.urandom(size))
        again_s, again_n, _ = _timed_log(server, run, full)
        changed.write_bytes(os.urandom(size))

        def incremental() -> object:
            draft = first.new_draft()  # type: ignore[attr-defined]
            draft.add_file(changed, "shard-000/sample-00007.bin", overwrite=True)
            return draft

        draft_s, draft_n, _ = _timed_log(server, run, incremental)
        t0 = time.perf_counter()
        for path in sorted(data.rglob("*.bin")):
            transfer.hash_file(path)
        hash_s = time.perf_counter() - t0
        run.finish()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"log {files} files x {size} B, first log        {first_s:7.2f} s   {first_n:6d} files uploaded")
    print(
        f"same dir, 1 file changed (add_dir)   {again_s:7.2f} s   {again_n:6d} files uploaded   "
        f"{first_s / again_s:5.1f}x faster than the first log"
    )
    print(
        f"new_draft() + the 1 changed file     {draft_s:7.2f} s   {draft_n:6d} files uploaded   "
        f"{first_s / draft_s:5.1f}x faster than the first log"
    )
    print(
        f"baseline: sha256 of all {files} files {hash_s:7.2f} s   (the floor of re-logging the whole folder)"
    )


def main(argv: list[str]) -> None:
    is_quick = quick(argv, "registry", "short smoke run")
    resolves, files = (300, 1_000) if is_quick else (3_000, 10_000)
    with postgres_database() as dsn, server_thread(dsn, gc_interval=0.0) as server:
        os.environ["STRATA_ADDR"] = server.addr
        bench_resolve(server, resolves)
        try:
            bench_log_dataset(server, files, 1024)
        except (ImportError, AttributeError) as e:
            print(
                f"log_artifact benchmark skipped: the SDK's transfer engine or strata.init is missing ({e})"
            )
