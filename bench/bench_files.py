"""File transfer benchmarks on SeaweedFS S3, each next to a baseline measured in the same run.

    make bench BENCH_ARGS=files                 # 1 GiB file, 10,000 small files, 3 GiB RSS run
    make bench BENCH_ARGS="files --quick"       # 128 MiB, 1,000 small files, 512 MiB RSS run

Figures:
  upload    1 GiB through Strata (client -> gRPC -> server -> S3 multipart) vs a direct minio
            fput_object of the same file to the same S3 (goal >= 0.9x)
  re-upload the unchanged file again (hash + FindMissingBlobs; goal >= 5x faster than the direct put)
  download  through Strata (ReadBlob -> temp file -> sha256 verify -> fsync -> rename; cache off) vs a
            direct minio fget_object (goal >= 0.9x); plus a cache hit (hash check + hard link)
  small     10,000 files of 1-8 KiB: files/s up (hash, FindMissingBlobs, BatchUploadBlobs) and down
            (one ReadBlob each, 8 at a time) vs direct minio puts/gets with 8 threads
  RSS       peak resident memory of the server process during a multi-GiB upload (bound: 200 MB)
  CPU       CPU-seconds per GiB of the client, the server and SeaweedFS for one upload of each kind
The server runs as its own process (python -m strata_server), like in production.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import psutil

from bench.quick import quick
from tests.fixtures.memory import PeakRss

MiB = 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_file(path: Path, size: int, seed: int) -> None:
    """Incompressible, unique content without paying os.urandom for every byte."""
    block = os.urandom(16 * MiB)
    with open(path, "wb") as f:
        written = 0
        while written < size:
            n = min(len(block), size - written)
            f.write(seed.to_bytes(8, "little") + written.to_bytes(8, "little") + block[16:n])
            written += n


class Stack:
    """PostgreSQL + SeaweedFS + a Strata server subprocess on S3."""

    def __init__(self, work: Path) -> None:
        from tests.fixtures.postgres import PostgresServer
        from tests.fixtures.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedS3

        self.work = work
        self.pg = PostgresServer()
        self.s3 = SeaweedS3(volume_size_limit_mb=1024)
        self.dsn = self.pg.create_database("bench")
        self.addr = f"127.0.0.1:{_free_port()}"
        env = {
            **os.environ,
            "STRATA_PG_DSN": self.dsn,
            "STRATA_DATA_DIR": str(work / "data"),
            "STRATA_S3_ENDPOINT": self.s3.endpoint,
            "STRATA_S3_ACCESS_KEY": ACCESS_KEY,
            "STRATA_S3_SECRET_KEY": SECRET_KEY,
            "STRATA_S3_BUCKET": "strata-bench",
            "STRATA_LOG_LEVEL": "warning",
            # no API keys: the per-RPC auth check is measured by bench_auth (once per stream here)
            "STRATA_AUTH_MODE": "open-local",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "strata_server", "--addr", self.addr],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "server.log", "wb"),
        )
        from strata.client import Client

        self.client = Client(self.addr)
        try:
            self.client.wait_ready(60)
            self._wait_healthy()
            self.minio = self.s3.client()
            self.minio.make_bucket("direct-bench")
        except BaseException:
            self.close()  # no orphaned server, SeaweedFS or PostgreSQL when the start fails
            raise

    def _wait_healthy(self) -> None:
        from strata.iam.v1 import iam_service_pb2

        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest(), timeout=2)
                return
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.2)

    def sql(self, query: str, *args: object) -> object:
        async def run() -> object:
            conn = await asyncpg.connect(self.dsn)
            try:
                return await conn.fetchval(query, *args)
            finally:
                await conn.close()

        return asyncio.run(run())

    def make_version(self, name: str, entries: list[tuple[str, str, int]]) -> str:
        """Artifact version rows written directly (the registry API is built separately)."""

        async def run() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                pid = await conn.fetchval("SELECT id FROM projects WHERE name = 'bench'")
                aid = await conn.fetchval(
                    "INSERT INTO artifacts (project_id, name, type) VALUES ($1, $2, 'bench') RETURNING id",
                    pid,
                    name,
                )
                vid = await conn.fetchval(
                    """INSERT INTO artifact_versions (artifact_id, version, draft_id, state)
                       VALUES ($1, 0, $2, 2) RETURNING id""",
                    aid,
                    f"d-{name}",
                )
                await conn.copy_records_to_table(
                    "manifest_entries",
                    records=[(vid, p, s, n) for p, s, n in entries],
                    columns=["version_id", "path", "sha256", "size"],
                )
            finally:
                await conn.close()

        asyncio.run(run())
        return f"entities/bench/projects/bench/artifacts/{name}/versions/v0"

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.s3.cleanup()
        self.pg.stop()


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    os.sync()  # earlier writes must not slow down (or speed up) whoever runs next
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _row(label: str, seconds: float, baseline: float, unit_bytes: int | None = None, note: str = "") -> None:
    rate = f"{unit_bytes / seconds / 1e6:8.1f} MB/s" if unit_bytes else " " * 13
    base = f"{unit_bytes / baseline / 1e6:8.1f} MB/s" if unit_bytes else " " * 13
    print(
        f"{label:<24} {seconds:7.2f} s {rate}   baseline {baseline:7.2f} s {base}   ratio {baseline / seconds:5.2f}x {note}",
        flush=True,
    )


PARENT = "entities/bench/projects/bench"


def _pair(rounds: int, baseline, strata) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best of `rounds` for each, alternating which goes first (machine noise, page cache)."""
    base, mine = [], []
    for r in range(rounds):
        if r % 2 == 0:
            base.append(_timed(lambda r=r: baseline(r)))
            mine.append(_timed(lambda r=r: strata(r)))
        else:
            mine.append(_timed(lambda r=r: strata(r)))
            base.append(_timed(lambda r=r: baseline(r)))
    return min(mine), min(base)


def bench_big(stack: Stack, work: Path, size: int, rounds: int) -> None:
    from strata.sdk import transfer

    srcs = [work / f"big{r}.bin" for r in range(rounds)]
    for r, src in enumerate(srcs):
        _write_file(src, size, seed=10 + r)  # a different file per round: a second upload would dedupe
    up, direct_put = _pair(
        rounds,
        lambda r: stack.minio.fput_object("direct-bench", f"big{r}.bin", str(srcs[r])),
        lambda r: transfer.upload_files(stack.client, PARENT, [("big.bin", srcs[r])], progress=False),
    )
    _row(f"upload {size // MiB} MiB", up, direct_put, size, "(baseline: minio fput_object; goal >= 0.9x)")
    reup = min(
        _timed(lambda: transfer.upload_files(stack.client, PARENT, [("big.bin", srcs[0])], progress=False))
        for _ in range(rounds)
    )
    _row("re-upload unchanged", reup, direct_put, None, "(hash + FindMissingBlobs; goal >= 5x)")

    sha, n = transfer.hash_file(srcs[0])
    version = stack.make_version("big", [("big.bin", sha, n)])
    os.environ["STRATA_CACHE_MAX_BYTES"] = "0"

    def fetch(r: int) -> None:
        shutil.rmtree(work / "down", ignore_errors=True)
        transfer.download_files(stack.client, version, [("big.bin", sha, n)], work / "down", progress=False)

    down, direct_get = _pair(
        rounds, lambda r: stack.minio.fget_object("direct-bench", "big0.bin", str(work / "direct.bin")), fetch
    )
    _row(f"download {size // MiB} MiB", down, direct_get, size, "(baseline: minio fget_object; goal >= 0.9x)")
    os.environ["STRATA_CACHE_MAX_BYTES"] = str(4 * size)
    transfer.download_files(stack.client, version, [("big.bin", sha, n)], work / "warm", progress=False)
    hit = _timed(
        lambda: transfer.download_files(
            stack.client, version, [("big.bin", sha, n)], work / "hit", progress=False
        )
    )
    _row("download, cache hit", hit, direct_get, None, "(hash check + hard link)")
    for p in [*srcs, work / "direct.bin", work / "down", work / "warm", work / "hit"]:
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def bench_small(stack: Stack, work: Path, count: int) -> None:
    from strata.sdk import transfer

    folder = work / "small"
    for i in range(count):
        sub = folder / f"d{i % 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05d}.txt").write_bytes(os.urandom(1024 + (i * 7919) % 7168))
    files = transfer.list_dir_files(folder)
    with ThreadPoolExecutor(8) as pool:
        direct_up = _timed(
            lambda: list(
                pool.map(lambda f: stack.minio.fput_object("direct-bench", f"s/{f[0]}", str(f[1])), files)
            )
        )
        up = _timed(lambda: transfer.upload_files(stack.client, PARENT, files, progress=False))
        print(
            f"small files up   {count / up:9.0f} files/s  ({up:.2f} s)   direct minio put x8 threads {count / direct_up:7.0f} files/s   ratio {direct_up / up:5.2f}x",
            flush=True,
        )
        digests = transfer.upload_files(stack.client, PARENT, files, progress=False)
        entries = [(p, d.sha256, d.size) for p, d in digests.items()]
        version = stack.make_version("small", entries)
        os.environ.pop("STRATA_CACHE_MAX_BYTES", None)  # default: through an empty cache (adopting each file)
        os.environ["STRATA_CACHE_DIR"] = str(work / "cache-small")
        direct_down = _timed(
            lambda: list(
                pool.map(
                    lambda f: stack.minio.fget_object("direct-bench", f"s/{f[0]}", str(work / "dd" / f[0])),
                    files,
                )
            )
        )
    down = _timed(
        lambda: transfer.download_files(stack.client, version, entries, work / "sd", progress=False)
    )
    print(
        f"small files down {count / down:9.0f} files/s  ({down:.2f} s)   direct minio get x8 threads {count / direct_down:7.0f} files/s   ratio {direct_down / down:5.2f}x",
        flush=True,
    )
    shutil.rmtree(folder)
    shutil.rmtree(work / "sd", ignore_errors=True)
    shutil.rmtree(work / "dd", ignore_errors=True)


def bench_cpu(stack: Stack, work: Path, size: int) -> None:
    """Where the CPU goes in one upload of each kind: CPU-seconds of this process (the client), the
    Strata server and SeaweedFS, per GiB (explains the upload ratio on a CPU-bound machine)."""
    from strata.sdk import transfer

    def cpu(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            return t.user + t.system
        except psutil.NoSuchProcess:
            return 0.0

    me, server = psutil.Process(), psutil.Process(stack.proc.pid)
    weed = [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("weed")]
    src = work / "cpu.bin"
    _write_file(src, size, seed=3)
    runs = (
        ("direct minio put", lambda: stack.minio.fput_object("direct-bench", "cpu.bin", str(src))),
        (
            "through Strata",
            lambda: transfer.upload_files(stack.client, PARENT, [("cpu.bin", src)], progress=False),
        ),
    )
    gib = size / (1024 * MiB)
    for label, fn in runs:
        before = (cpu(me), cpu(server), sum(map(cpu, weed)))
        wall = _timed(fn)
        used = [
            (b - a) / gib for a, b in zip(before, (cpu(me), cpu(server), sum(map(cpu, weed))), strict=True)
        ]
        print(
            f"CPU-s per GiB, {label:<17} client {used[0]:5.2f}  server {used[1]:5.2f}  SeaweedFS {used[2]:5.2f}"
            f"  total {sum(used):5.2f}  (wall {wall / gib:.2f} s/GiB)",
            flush=True,
        )
    src.unlink()


def bench_rss(stack: Stack, work: Path, size: int) -> None:
    from strata.sdk import transfer

    src = work / "huge.bin"
    _write_file(src, size, seed=2)
    with PeakRss(stack.proc.pid, interval=0.05) as rss:
        seconds = _timed(
            lambda: transfer.upload_files(stack.client, PARENT, [("huge.bin", src)], progress=False)
        )
    src.unlink()
    print(
        f"server RSS during a {size / 1024**3:.1f} GiB upload: peak {rss.peak / 1e6:.0f} MB "
        f"(idle before {rss.idle / 1e6:.0f} MB; bound 200 MB)   [{size / seconds / 1e6:.0f} MB/s]",
        flush=True,
    )


def main(argv: list[str]) -> None:
    is_quick = quick(argv, "files")
    big, small, rss = (128 * MiB, 1000, 512 * MiB) if is_quick else (1024 * MiB, 10_000, 3 * 1024 * MiB)
    rounds = 1 if is_quick else 2
    work = Path(tempfile.mkdtemp(prefix="strata-bench-files-"))
    os.environ.setdefault("STRATA_CACHE_DIR", str(work / "cache"))
    os.environ.setdefault("STRATA_SPOOL_DIR", str(work / "spool"))
    stack = Stack(work)
    try:
        print("(one machine: client, server, PostgreSQL and SeaweedFS share its cores)", flush=True)
        bench_rss(stack, work, rss)  # first: the server's memory before other work settles in
        bench_big(stack, work, big, rounds)
        bench_cpu(stack, work, big)
        bench_small(stack, work, small)
    except BaseException:
        log = work / "server.log"
        if log.exists():
            print("--- server log (tail) ---\n" + log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stack.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
