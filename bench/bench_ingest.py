"""Ingest benchmarks: durable points/s through the SDK (one run and 8 concurrent runs), run.log cost,
ingest rate into an empty database vs one already holding 50M points, server RSS during a long stream.

Real components, started like the tests do: a PostgreSQL (pgserver) of the benchmark's own, the
ingest service as a subprocess (`python -m strata_server.ingest`), the SDK in this process (or in 8
subprocesses). Each figure is printed next to a baseline measured in the same run:
  - raw asyncpg COPY of the same points as plain rows (run_id, key_id, step, value, time),
  - for run.log: the floor of any buffer-appending logger (copy the dict, append a tuple).

    make bench BENCH_ARGS=ingest              # full
    make bench BENCH_ARGS="ingest --quick"    # smoke run
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import asyncpg
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.quick import quick  # noqa: E402
from tests.fixtures.ingest import IngestProcess  # noqa: E402
from tests.fixtures.postgres import PostgresServer  # noqa: E402


def keys_for(n: int) -> list[str]:
    return [f"layer{i:03d}/grad_norm" for i in range(n)]


def sdk_stream(addr: str, steps: int, width: int, project: str = "bench") -> tuple[float, int]:
    """Log steps x width points through the SDK and finish (every point acknowledged as committed).
    Returns (seconds, points)."""
    import strata

    keys = keys_for(width)
    base = np.arange(width, dtype=np.float64)
    run = strata.init(project=project, entity="bench", addr=addr)
    t0 = time.perf_counter()
    for step in range(steps):
        run.log(dict(zip(keys, (base + step * 1e-3).tolist(), strict=True)))
    run.finish(timeout=600)
    elapsed = time.perf_counter() - t0
    assert run.committed_points == steps * width, (run.committed_points, steps * width)
    return elapsed, steps * width


async def copy_baseline(dsn: str, steps: int, width: int) -> float:
    """Seconds for asyncpg COPY of the same points as one plain row per point, in 50k-row batches,
    each batch its own transaction (durable, like the SDK's acks)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_points (run_id bigint, key_id int, step bigint, value float8, time float8)"
        )
        await conn.execute("TRUNCATE bench_points")
        now = time.time()
        per_batch = max(1, 50_000 // width)
        t0 = time.perf_counter()
        for start in range(0, steps, per_batch):
            rows = [
                (1, k, step, step * 1e-3 + k, now)
                for step in range(start, min(steps, start + per_batch))
                for k in range(width)
            ]
            async with conn.transaction():
                await conn.copy_records_to_table("bench_points", records=rows)
        return time.perf_counter() - t0
    finally:
        await conn.close()


def rss_sampler(pid: int, samples: list[int], stop: threading.Event) -> threading.Thread:
    proc = psutil.Process(pid)

    def sample() -> None:
        while not stop.wait(0.25):
            try:
                samples.append(proc.memory_info().rss)
            except psutil.Error:
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    return thread


CHILD = """
import sys, time, numpy as np
sys.path.insert(0, {root!r})
from bench.bench_ingest import keys_for
import strata
addr, steps, width, project = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
keys = keys_for(width)
base = np.arange(width, dtype=np.float64)
run = strata.init(project=project, entity="bench", addr=addr)
print("READY", flush=True)
sys.stdin.readline()
t0 = time.time()
for step in range(steps):
    run.log(dict(zip(keys, (base + step * 1e-3).tolist())))
run.finish(timeout=600)
assert run.committed_points == steps * width
print("DONE", t0, time.time(), flush=True)
"""


def concurrent_runs(addr: str, runs: int, steps: int, width: int) -> tuple[float, int]:
    """`runs` training processes log at once; returns (wall seconds from go to last finish, points)."""
    env = {**os.environ, "STRATA_SPOOL_DIR": tempfile.mkdtemp(prefix="bench-spool-")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT)), addr, str(steps), str(width), f"bench-c{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(runs)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().startswith("READY")
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    starts, ends = [], []
    for p in procs:
        out, _ = p.communicate(timeout=900)
        _, t0, t1 = out.strip().splitlines()[-1].split()
        starts.append(float(t0))
        ends.append(float(t1))
    return max(ends) - min(starts), runs * steps * width


def log_cost(addr: str, calls: int) -> tuple[float, float, float, float]:
    """µs per run.log call with 10 scalars: wall time in the training loop, CPU of the calling thread,
    CPU of the whole process (the background threads' batching, spooling and sending included), and
    the floor of any buffering logger (copy the dict, append a tuple)."""
    import strata

    run = strata.init(project="bench-log", entity="bench", addr=addr)
    values = {f"metric_{i}": 0.1 * i for i in range(10)}
    t0, c0, th0 = time.perf_counter(), time.process_time(), time.thread_time()
    for _ in range(calls):
        run.log(values)
    wall = (time.perf_counter() - t0) / calls * 1e6
    thread = (time.thread_time() - th0) / calls * 1e6
    run.finish(timeout=600)
    cpu = (time.process_time() - c0) / calls * 1e6
    floor: deque[object] = deque()
    t0 = time.perf_counter()
    step = 0
    for _ in range(calls):
        floor.append((step, time.time(), values.copy()))
        step += 1
    return wall, thread, cpu, (time.perf_counter() - t0) / calls * 1e6


async def preload(dsn: str, points: int, per_row: int = 320) -> float:
    """Fill metric_chunks with `points` points of other runs (packed rows, COPY); returns seconds."""
    conn = await asyncpg.connect(dsn)
    try:
        steps = np.arange(per_row, dtype="<i8")
        sb, vb, tb = steps.tobytes(), np.random.rand(per_row).tobytes(), np.full(per_row, 1.7e9).tobytes()
        rows_total = points // per_row
        t0 = time.perf_counter()
        chunk = 20_000
        for start in range(0, rows_total, chunk):
            rows = [
                (1_000_000 + r // 1000, r % 1000, 0, per_row - 1, per_row, sb, vb, tb)
                for r in range(start, min(rows_total, start + chunk))
            ]
            await conn.copy_records_to_table(
                "metric_chunks",
                records=rows,
                columns=("run_id", "key_id", "first_step", "last_step", "n", "steps", "vals", "times"),
            )
        await conn.execute("ANALYZE metric_chunks")
        await conn.execute("CHECKPOINT")  # the load's dirty pages are not flushed during the measurement
        return time.perf_counter() - t0
    finally:
        await conn.close()


def fmt(rate: float) -> str:
    return f"{rate:>12,.0f} points/s"


def main(argv: list[str]) -> None:
    is_quick = quick(argv, "ingest", "small sizes: a smoke run")
    steps, width = (10_000, 100) if is_quick else (50_000, 100)
    preload_points = 2_000_000 if is_quick else 50_000_000
    os.environ.setdefault("STRATA_SPOOL_DIR", tempfile.mkdtemp(prefix="bench-spool-"))
    # no API keys: a stream is authorized once, at its first message (bench_auth measures that cost)
    os.environ.setdefault("STRATA_AUTH_MODE", "open-local")
    pg = PostgresServer()
    dsn, full_dsn = pg.create_database("bench"), pg.create_database("benchfull")
    server = IngestProcess(dsn, Path(tempfile.mkdtemp(prefix="bench-ingest-"))).start()
    assert server.proc is not None
    try:
        _bench(server, dsn, full_dsn, steps, width, preload_points, quick=is_quick)
    finally:
        server.stop()
        pg.stop()


def _bench(
    server: IngestProcess,
    dsn: str,
    full_dsn: str,
    steps: int,
    width: int,
    preload_points: int,
    *,
    quick: bool,
) -> None:
    assert server.proc is not None
    print(f"machine: {os.cpu_count()} cores; the SDK, the ingest server and PostgreSQL all run on it")
    sdk_stream(server.addr, 1000, width, project="warmup")
    seconds, points = sdk_stream(server.addr, steps, width)
    empty_rate = points / seconds
    copy_seconds = asyncio.run(copy_baseline(dsn, steps, width))
    copy_rate = points / copy_seconds
    print(f"\n1 run, {width} keys/step, {points:,} points, SDK -> server -> PostgreSQL, durable acks")
    print(f"  SDK end to end        {fmt(empty_rate)}   ({seconds:.2f} s)")
    print(f"  raw asyncpg COPY rows {fmt(copy_rate)}   ({copy_seconds:.2f} s; baseline)")
    print(f"  ratio SDK / COPY      {empty_rate / copy_rate:12.2f}x")
    w10_seconds, w10_points = sdk_stream(server.addr, steps * 5, 10, project="bench-w10")
    print(
        f"\n1 run, 10 keys/step: {fmt(w10_points / w10_seconds)}   ({w10_points:,} points, {w10_seconds:.2f} s)"
    )

    runs = 8
    per_run = steps // runs
    c_seconds, c_points = concurrent_runs(server.addr, runs, per_run, width)
    print(
        f"\n{runs} concurrent runs (8 processes), {c_points:,} points: {fmt(c_points / c_seconds)}   ({c_seconds:.2f} s)"
    )
    print(f"  ratio to raw COPY     {c_points / c_seconds / copy_rate:12.2f}x")

    calls = 200_000 if quick else 1_000_000
    wall, thread, cpu, floor = log_cost(server.addr, calls)
    print(
        f"\nrun.log with 10 scalars, {calls:,} calls: {wall:.2f} µs/call wall in the training loop "
        f"({thread:.2f} µs CPU of the calling thread; {cpu:.2f} µs of process CPU per call incl. "
        "batching, spooling and sending until finish())"
    )
    print(
        f"  floor (dict copy + append) {floor:.2f} µs; ratio {wall / floor:.1f}x; wandb 0.31 offline: 124 µs"
    )

    long_stream_rss(server, steps * 4, width)
    growth(server, full_dsn, steps, width, preload_points)


def long_stream_rss(server: IngestProcess, steps: int, width: int) -> None:
    """Server RSS sampled every 0.25 s during one long stream: it must not grow with the stream."""
    assert server.proc is not None
    samples: list[int] = []
    stop = threading.Event()
    sampler = rss_sampler(server.proc.pid, samples, stop)
    seconds, points = sdk_stream(server.addr, steps, width, project="bench-long")
    stop.set()
    sampler.join()
    mib = [s / 2**20 for s in samples] or [0.0]
    quarters = [mib[min(len(mib) - 1, len(mib) * q // 4)] for q in range(5)]
    print(f"\nlong stream, {points:,} points in {seconds:.1f} s ({fmt(points / seconds).strip()})")
    print(
        "  server RSS at 0/25/50/75/100% of the stream: "
        + " / ".join(f"{q:.0f}" for q in quarters)
        + f" MiB (max {max(mib):.0f} MiB)"
    )


def growth(server: IngestProcess, full_dsn: str, steps: int, width: int, preload_points: int) -> None:
    """Rate into the empty database vs one holding `preload_points` other points: a second database
    and server, measured alternately (A B A B ...) so that load from other work on a shared machine
    hits both alike; medians are compared."""
    full = IngestProcess(full_dsn, Path(tempfile.mkdtemp(prefix="bench-full-"))).start()
    try:
        load_seconds = asyncio.run(preload(full_dsn, preload_points))
        print(
            f"\npreloaded {preload_points:,} points of other runs into metric_chunks in {load_seconds:.1f} s"
        )
        empty_rates, full_rates = [], []
        for _ in range(5):
            seconds, points = sdk_stream(server.addr, steps // 2, width, project="bench-empty")
            empty_rates.append(points / seconds)
            seconds, points = sdk_stream(full.addr, steps // 2, width, project="bench-full")
            full_rates.append(points / seconds)
        empty_rate, full_rate = float(np.median(empty_rates)), float(np.median(full_rates))
        print("  rounds, empty: " + ", ".join(f"{r / 1e6:.2f}" for r in empty_rates) + " M points/s")
        print("  rounds, full:  " + ", ".join(f"{r / 1e6:.2f}" for r in full_rates) + " M points/s")
        print(f"  SDK end to end, empty DB (median of 5)    {fmt(empty_rate)}")
        print(
            f"  SDK end to end, {preload_points / 1e6:.0f}M points in DB (median of 5)  {fmt(full_rate)}   "
            f"(ratio {full_rate / empty_rate:.2f})"
        )
    finally:
        full.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
