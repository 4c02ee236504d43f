"""Capacity model figures, per process: the "many runs" ingest shape next to the one-firehose shape,
and searches/s of one query process; each with PostgreSQL's CPU share, commits/s and WAL bytes/s.

Real components: a PostgreSQL (pgserver) of the benchmark's own, the ingest and query services each
alone as a subprocess (open-local), the load generator as a third process (bench/capacity_load.py:
grpc.aio, one StreamMetrics call per run, the wire protocol directly). CPU seconds are read with
psutil for each process (PostgreSQL: the postmaster, its live backends and the backends it reaped).

    python -m bench capacity            # 1,000 runs x 10 keys x 100 steps/s for 20 s
    python -m bench capacity --quick    # 200 runs, 10 s
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import psutil
from strata.query.v1 import query_service_pb2 as q
from strata.query.v1 import query_service_pb2_grpc as q_grpc
from strata.sdk._sender import FLUSH_INTERVAL as SDK_FLUSH
from strata.sdk._stream import MAX_INFLIGHT

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_ingest import sdk_stream  # noqa: E402
from tests.fixtures import query as fx  # noqa: E402
from tests.fixtures.ingest import IngestProcess  # noqa: E402
from tests.fixtures.postgres import PostgresServer  # noqa: E402


class QueryProcess(IngestProcess):
    """`python -m strata_server.query` alone, started and stopped like the ingest subprocess."""

    module = "strata_server.query"


def pg_cpu(datadir: Path) -> float:
    """CPU seconds of the whole PostgreSQL: postmaster, live children, and children already reaped."""
    pid = int((datadir / "postmaster.pid").read_text().split()[0])
    master = psutil.Process(pid)
    t = master.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in master.children(recursive=True):
        try:
            c = child.cpu_times()
            total += c.user + c.system
        except psutil.Error:
            pass  # exited between listing and reading: counted in children_* next time
    return total


def proc_cpu(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


async def pg_counters(dsn: str) -> tuple[int, int, int]:
    """(write transactions so far: the transaction id counter, WAL position in bytes, xact_commit of
    the database). The first two are exact at once; pg_stat_database.xact_commit (read-only
    transactions included) lags by the backends' statistics flush interval (1-10 s)."""
    conn = await asyncpg.connect(dsn)
    try:
        xid = await conn.fetchval("SELECT pg_current_xact_id()::text::bigint")
        wal = await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")
        stat = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(xid), int(wal), int(stat)
    finally:
        await conn.close()


@dataclass
class Usage:
    """What one phase cost: wall seconds, CPU seconds per process, commits and WAL bytes."""

    seconds: float = 0.0
    server_cpu: float = 0.0
    pg_cpu: float = 0.0
    commits: int = 0
    wal_bytes: int = 0
    stat_commits: int = 0

    def line(self, server: str) -> str:
        s = max(self.seconds, 1e-9)
        return (
            f"  CPU seconds: {server} {self.server_cpu:.1f} ({self.server_cpu / s:.2f} cores), "
            f"PostgreSQL {self.pg_cpu:.1f} ({self.pg_cpu / s:.2f} cores; "
            f"{self.pg_cpu / max(self.pg_cpu + self.server_cpu, 1e-9):.0%} of the two)\n"
            f"  PostgreSQL: {self.commits / s:,.0f} write commits/s (pg_stat_database xact_commit: "
            f"{self.stat_commits / s:,.0f}/s), WAL {self.wal_bytes / s / 1e6:.1f} MB/s"
        )


@contextmanager
def measured(pg: PostgresServer, dsn: str, server_pid: int) -> Iterator[Usage]:
    usage = Usage()
    c0, w0, x0 = asyncio.run(pg_counters(dsn))
    s0, p0, t0 = proc_cpu(server_pid), pg_cpu(pg.datadir), time.perf_counter()
    yield usage
    usage.seconds = time.perf_counter() - t0
    usage.server_cpu, usage.pg_cpu = proc_cpu(server_pid) - s0, pg_cpu(pg.datadir) - p0
    time.sleep(1.5)  # let idle backends flush their statistics (the xid and WAL figures need no wait)
    c1, w1, x1 = asyncio.run(pg_counters(dsn))
    usage.commits, usage.wal_bytes, usage.stat_commits = c1 - c0 - 1, w1 - w0, x1 - x0


def many_runs(
    pg: PostgresServer, dsn: str, server: IngestProcess, runs: int, seconds: float, tick: float, window: int
) -> None:
    assert server.proc is not None
    cmd = [sys.executable, "-m", "bench.capacity_load", server.addr, "--runs", str(runs)]
    cmd += ["--keys", "10", "--rate", "100", "--seconds", str(seconds), "--tick", str(tick)]
    cmd += ["--window", str(window)]
    load = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert load.stdout is not None
    line = load.stdout.readline()
    assert line.strip() == "STREAMING", line
    with measured(pg, dsn, server.proc.pid) as usage:
        result: dict[str, Any] = json.loads(load.stdout.readline())
    load.wait(timeout=60)
    points, rate = result["points"], result["points"] / result["seconds"]
    print(f"\nmany runs: {runs} runs x 10 keys x 100 steps/s for {seconds:.0f} s, a batch every {tick:g} s{' (the SDK flush interval)' if tick == SDK_FLUSH else ''} (offered "
          f"{result['offered']:,.0f} points/s), one ingest process, load generator in its own process, {window} batches in flight per run")  # fmt: skip
    print(f"  durable (acked) {rate:>12,.0f} points/s   ({points:,} points in {result['seconds']:.1f} s; "
          f"{result['sent_fraction']:.0%} of the scheduled steps were sent)")  # fmt: skip
    print(f"  ack latency p50 {result['p50'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms "
          f"({result['batches']:,} batches, {points / max(1, result['batches']):.0f} points each)")  # fmt: skip
    print(f"  point latency p50 {result['point_p50'] * 1000:.0f} ms, p99 {result['point_p99'] * 1000:.0f} ms "
          f"(a batch's oldest step fell due -> ack: the tick and any wait for a window slot included)")  # fmt: skip
    print(f"  sustained      {result['sustained']:>12,.0f} points/s acknowledged from {seconds / 10:.0f} s to "
          f"{seconds:.0f} s (after the runs started, before they all flushed their last batch at once)")  # fmt: skip
    met = result["sustained"] >= 1e6 * 0.99 and result["p99"] <= 1.0
    print(f"  goal >= 1,000,000 points/s with p99 <= 1 s: end to end {rate / 1e6:.2f}x, sustained "
          f"{result['sustained'] / 1e6:.2f}x, p99 {result['p99']:.2f} s: {'met' if met else 'NOT met'}")  # fmt: skip
    print(usage.line("ingest") + f", load generator {result['cpu']:.1f}")
    print(f"  machine load average {os.getloadavg()[0]:.1f} (1 min): the processes above got "
          f"{(usage.server_cpu + usage.pg_cpu + result['cpu']) / usage.seconds:.2f} of {os.cpu_count()} cores")  # fmt: skip
    cpu_per_point = (usage.server_cpu / points * 1e6, usage.pg_cpu / points * 1e6)
    print(f"  per point: ingest {cpu_per_point[0]:.2f} µs CPU, PostgreSQL {cpu_per_point[1]:.2f} µs CPU, "
          f"WAL {usage.wal_bytes / points:.1f} bytes; {points / max(1, usage.commits):,.0f} points per commit")  # fmt: skip


def firehose(pg: PostgresServer, dsn: str, server: IngestProcess, steps: int) -> None:
    assert server.proc is not None
    sdk_stream(server.addr, 500, 100, project="warmup")
    with measured(pg, dsn, server.proc.pid) as usage:
        seconds, points = sdk_stream(server.addr, steps, 100, project="firehose")
    print(f"\none firehose (the `bench ingest` shape): 1 run x 100 keys, {points:,} points through the SDK")
    print(f"  durable (acked) {points / seconds:>12,.0f} points/s   ({seconds:.1f} s)")
    print(usage.line("ingest"))
    print(f"  per point: ingest {usage.server_cpu / points * 1e6:.2f} µs CPU, PostgreSQL "
          f"{usage.pg_cpu / points * 1e6:.2f} µs CPU, WAL {usage.wal_bytes / points:.1f} bytes")  # fmt: skip


async def search_load(addr: str, clients: int, seconds: float) -> tuple[int, list[float]]:
    doc = {"config.optimizer": "adam", "summary.val/loss": {"$lt": 0.5}}
    req = q.SearchRunsRequest(
        parent="entities/bench/projects/sweep", filter_json=json.dumps(doc), order_by=["-summary.val/f1"]
    )
    req.page_size = 50
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = q_grpc.QueryServiceStub(channel)
        await stub.SearchRuns(req, timeout=60)
        end = time.monotonic() + seconds

        async def loop() -> None:
            while time.monotonic() < end:
                t = time.monotonic()
                await stub.SearchRuns(req, timeout=60)
                latencies.append(time.monotonic() - t)

        await asyncio.gather(*(loop() for _ in range(clients)))
    return len(latencies), latencies


async def load_runs(dsn: str, runs: int) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        project_id = await fx.create_project(pool, "bench", "sweep")
        await fx.bulk_runs(pool, project_id, runs)
    finally:
        await pool.close()


def searches(pg: PostgresServer, runs: int, seconds: float) -> None:
    dsn = pg.create_database("benchq")
    server = QueryProcess(dsn, Path(tempfile.mkdtemp(prefix="bench-query-"))).start()
    assert server.proc is not None
    try:
        asyncio.run(load_runs(dsn, runs))
        clients = 8
        with measured(pg, dsn, server.proc.pid) as usage:
            n, lat = asyncio.run(search_load(server.addr, clients, seconds))
        lat.sort()
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, len(lat) * 99 // 100)]
        print(f"\nsearches: SearchRuns (config == + summary range, sorted, first page of 50) on {runs:,} runs, "
              f"{clients} clients in a closed loop, one query process")  # fmt: skip
        print(f"  {n / usage.seconds:,.0f} searches/s   (p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms)")
        print(usage.line("query"))
    finally:
        server.stop()


def phase(label: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception as e:  # a phase that fails is reported, the others still run
        print(f"\n{label}: FAILED {type(e).__name__}: {e}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench capacity")
    parser.add_argument("--quick", action="store_true", help="200 runs for 10 s; a shorter firehose")
    parser.add_argument("--runs", type=int, default=0, help="concurrent runs (default 1,000; quick 200)")
    parser.add_argument("--seconds", type=float, default=0.0, help="streaming seconds (default 20; quick 10)")
    parser.add_argument(
        "--ticks", default=f"{SDK_FLUSH:g},0.1,1", help="seconds between a run's batches, one phase each"
    )
    parser.add_argument(
        "--window",
        type=int,
        default=MAX_INFLIGHT,
        help="unacknowledged batches per run (the SDK's MAX_INFLIGHT)",
    )
    parser.add_argument("--only-many", action="store_true", help="skip the firehose and the searches")
    args = parser.parse_args(argv)
    runs = args.runs or (200 if args.quick else 1000)
    seconds = args.seconds or (10.0 if args.quick else 20.0)
    os.environ["STRATA_AUTH_MODE"] = "open-local"
    os.environ.setdefault("STRATA_SPOOL_DIR", tempfile.mkdtemp(prefix="bench-spool-"))
    print(f"machine: {os.cpu_count()} cores shared by the load generator, the servers and PostgreSQL")
    pg = PostgresServer()
    try:
        dsn = pg.create_database("bench")
        server = IngestProcess(dsn, Path(tempfile.mkdtemp(prefix="bench-capacity-"))).start()
        try:
            for tick in map(float, args.ticks.split(",")):
                run = functools.partial(many_runs, pg, dsn, server, runs, seconds, tick, args.window)
                phase("many runs", run)
            if not args.only_many:
                phase("firehose", lambda: firehose(pg, dsn, server, 20_000 if args.quick else 50_000))
        finally:
            server.stop()
        if not args.only_many:
            phase("searches", lambda: searches(pg, 10_000, 5.0 if args.quick else 15.0))
    finally:
        pg.stop()
    print("\n(2 shared cores: other work on the machine moves every figure)")


if __name__ == "__main__":
    main(sys.argv[1:])
