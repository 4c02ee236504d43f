"""What one hostile tenant costs the others: another tenant's GetRun and SearchRuns latency (p50, p99)
while nothing else runs, then while one tenant attacks, each as a ratio to the idle figures.

The server runs as a subprocess (`python -m strata_server`, keys mode, default limits) on a real
PostgreSQL, so its RSS is its own; each attack runs in its own process, so the attacker's client work
does not compete with the measuring client for one interpreter. The attacks:

  (a) heavy UpdateRun   20 concurrent UpdateRuns on one run, each carrying 9,999 summary overrides
                        or the most a request may carry, again and again
  (b) upload streams    many UploadChunks streams that send one 1 MiB chunk, then idle
  (c) unauthenticated   concurrent 4-60 MiB unary requests (BatchUploadBlobs) with no API key;
                        the server's peak RSS during it is printed

For each attack, idle segments and attacked segments take turns (the attacker process is switched on
and off), so the idle baseline of each ratio is measured in the same moments of the shared machine.

    make bench BENCH_ARGS="attack"          (add --quick for a short smoke run)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google_crc32c
import grpc
import psutil
from google.protobuf import field_mask_pb2
from strata.client import Client, RetryPolicy
from strata.errors import StrataError
from strata.iam.v1 import iam_pb2
from strata.iam.v1 import iam_service_pb2 as iam
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import run_pb2, upload_pb2
from strata.query.v1 import query_service_pb2 as qpb

from bench.quick import quick
from tests.fixtures.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
NO_RETRY = RetryPolicy(max_attempts=1)
MIB = 1024 * 1024
BATCH_UPLOAD = "/strata.ingest.v1.IngestService/BatchUploadBlobs"


@dataclass(frozen=True)
class Tenants:
    addr: str
    victim_key: str
    attacker_key: str
    victim_run: str
    victim_project: str
    attacker_run: str
    attacker_project: str


@dataclass
class Phase:
    name: str
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"GetRun": [], "SearchRuns": []})
    errors: Counter[str] = field(default_factory=Counter)
    peak_rss: int = 0
    attacker: Counter[str] = field(default_factory=Counter)


# --- the server and the tenants ---


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, dsn: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """`python -m strata_server` in keys mode; returns (process, address, the admin's key)."""
    addr = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "STRATA_PG_DSN": dsn,
        "STRATA_AUTH_MODE": "keys",
        "STRATA_LOG_LEVEL": "error",
        "STRATA_GC_INTERVAL": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "strata_server", "--addr", addr, "--data-dir", str(data_dir)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    key_file = data_dir / "admin-api-key"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        if key_file.exists() and key_file.read_text().strip():
            key = key_file.read_text().strip()
            try:
                with Client(addr, api_key=key, retry=NO_RETRY) as c:
                    c.iam.GetPrincipal(iam.GetPrincipalRequest(), timeout=2)
                return proc, addr, key
            except (StrataError, grpc.RpcError):
                pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start in 120 s")


def tenant(addr: str, admin: str, user: str, team: str) -> tuple[str, str]:
    """User `user`, admin of team `team` with project p; returns (its key, the project)."""
    with Client(addr, api_key=admin, retry=NO_RETRY) as c:
        c.iam.CreateUser(iam.CreateUserRequest(user=iam_pb2.User(name=f"entities/{user}")))
        key = c.iam.CreateApiKey(
            iam.CreateApiKeyRequest(owner=f"entities/{user}", description="bench")
        ).secret
    with Client(addr, api_key=key, retry=NO_RETRY) as c:
        c.iam.CreateTeam(iam.CreateTeamRequest(team=iam_pb2.Team(name=f"entities/{team}")))
        c.iam.CreateProject(iam.CreateProjectRequest(parent=f"entities/{team}", project_id="p"))
    return key, f"entities/{team}/projects/p"


def setup(addr: str, admin: str) -> Tenants:
    victim_key, victim_project = tenant(addr, admin, "victor", "blue")
    attacker_key, attacker_project = tenant(addr, admin, "mallory", "red")
    with Client(addr, api_key=victim_key, retry=NO_RETRY) as c:
        runs = [
            c.ingest.CreateRun(
                pb.CreateRunRequest(parent=victim_project, config_json=f'{{"lr": {i / 100}, "bs": 32}}')
            ).run.name
            for i in range(50)
        ]
    with Client(addr, api_key=attacker_key, retry=NO_RETRY) as c:
        target = c.ingest.CreateRun(pb.CreateRunRequest(parent=attacker_project)).run.name
    return Tenants(addr, victim_key, attacker_key, runs[0], victim_project, target, attacker_project)


# --- the attacks (each runs in a process of its own until `until`, then reports its outcomes) ---


def _outcome(e: StrataError | grpc.RpcError) -> str:
    if isinstance(e, StrataError):
        return f"{e.code.name}/{e.reason}"
    return e.code().name  # type: ignore[union-attr]


def _threads(n: int, body: Callable[[int, Counter[str]], None]) -> Counter[str]:
    counts: list[Counter[str]] = [Counter() for _ in range(n)]
    workers = [threading.Thread(target=body, args=(i, counts[i]), daemon=True) for i in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    return sum(counts, Counter())


@dataclass(frozen=True)
class Switch:
    """How the measuring process drives an attacker process: the attack runs while `active` is set;
    `done` ends it; the attacker reports "ready", then its outcome counts, on `out`."""

    active: Any
    done: Any
    out: Any

    def running(self) -> bool:
        """Wait until the attack is switched on; False once it is over."""
        while not self.done.is_set():
            if self.active.wait(0.1):
                return True
        return False


def attack_updates(t: Tenants, sw: Switch) -> None:
    mask = field_mask_pb2.FieldMask(paths=["summary"])

    def request(n: int, prefix: str) -> pb.UpdateRunRequest:
        summary = [run_pb2.MetricSummary(key=f"{prefix}/{i}", override_json=str(i)) for i in range(n)]
        return pb.UpdateRunRequest(run=run_pb2.Run(name=t.attacker_run, summary=summary), update_mask=mask)

    requests = [request(9_999 if i % 2 else 1_000, f"k{i % 4}") for i in range(20)]
    sw.out.put("ready")

    def body(i: int, counts: Counter[str]) -> None:
        with Client(t.addr, api_key=t.attacker_key, retry=NO_RETRY) as c:
            while sw.running():
                try:
                    c.ingest.UpdateRun(requests[i], timeout=30)
                    counts["OK"] += 1
                except StrataError as e:
                    counts[_outcome(e)] += 1

    sw.out.put(_threads(20, body))


def attack_streams(t: Tenants, sw: Switch, streams: int) -> None:
    data = os.urandom(MIB)
    crc = google_crc32c.value(data)
    sw.out.put("ready")

    def messages(session: str):  # type: ignore[no-untyped-def]
        yield pb.UploadChunksRequest(session=session)
        yield pb.UploadChunksRequest(chunk=upload_pb2.UploadChunk(offset=0, data=data, crc32c=crc))
        while sw.active.is_set() and not sw.done.is_set():
            time.sleep(0.05)  # idle, holding the stream open, until the attack is switched off

    def body(i: int, counts: Counter[str]) -> None:
        with Client(t.addr, api_key=t.attacker_key, retry=NO_RETRY) as c:
            while sw.running():
                try:
                    session = c.ingest.CreateUploadSession(
                        pb.CreateUploadSessionRequest(parent=t.attacker_project, expected_size=1024 * MIB)
                    ).session.name
                    c.ingest.UploadChunks(messages(session), timeout=600)
                    counts["stream ended OK"] += 1
                except StrataError as e:
                    counts[_outcome(e)] += 1
                    time.sleep(0.1)

    sw.out.put(_threads(streams, body))


def attack_flood(t: Tenants, sw: Switch, concurrency: int) -> None:
    """Unary requests of 4-60 MiB without any key (pre-serialized, sent as raw bytes)."""
    payloads = []
    for size in (4, 16, 32, 48, 60):
        blob = pb.BlobContent(data=b"\0" * (size * MIB))
        payloads.append(
            pb.BatchUploadBlobsRequest(parent=t.attacker_project, blobs=[blob]).SerializeToString()
        )
    options = [("grpc.max_send_message_length", 100 * MIB), ("grpc.max_receive_message_length", 100 * MIB)]
    sw.out.put("ready")

    def body(i: int, counts: Counter[str]) -> None:
        rng = random.Random(i)
        with grpc.insecure_channel(t.addr, options=options) as channel:
            call = channel.unary_unary(BATCH_UPLOAD, request_serializer=bytes, response_deserializer=bytes)
            while sw.running():
                try:
                    call(rng.choice(payloads), timeout=30)
                    counts["OK"] += 1
                except grpc.RpcError as e:
                    counts[_outcome(e)] += 1

    sw.out.put(_threads(concurrency, body))


# --- measuring the victim ---


def victim_calls(t: Tenants) -> list[tuple[str, Callable[[Client], object]]]:
    return [
        ("GetRun", lambda c: c.ingest.GetRun(pb.GetRunRequest(name=t.victim_run), timeout=10)),
        (
            "SearchRuns",
            lambda c: c.query.SearchRuns(
                qpb.SearchRunsRequest(parent=t.victim_project, page_size=50), timeout=10
            ),
        ),
    ]


def measure(t: Tenants, phase: Phase, seconds: float, server: psutil.Process | None) -> None:
    """Alternate the victim's calls for `seconds` (sequentially) while sampling the server's RSS
    (when `server` is given)."""
    stop = threading.Event()

    def sample() -> None:
        while server is not None and not stop.is_set():
            try:
                phase.peak_rss = max(phase.peak_rss, server.memory_info().rss)
            except psutil.Error:
                return
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    calls = victim_calls(t)
    end = time.monotonic() + seconds
    with Client(t.addr, api_key=t.victim_key, retry=NO_RETRY) as c:
        while time.monotonic() < end:
            for name, call in calls:
                t0 = time.perf_counter()
                try:
                    call(c)
                    phase.latencies[name].append(time.perf_counter() - t0)
                except StrataError as e:
                    phase.errors[f"{name} {_outcome(e)}"] += 1
    stop.set()
    sampler.join()


SETTLE, WARMUP = 1.5, 1.0  # seconds after switching an attack off / on before measuring


def compare(
    t: Tenants,
    name: str,
    target: Callable[..., None],
    extra: tuple[object, ...],
    rounds: int,
    seg: float,
    server: psutil.Process,
) -> tuple[Phase, Phase]:
    """Idle and attacked segments taking turns (`rounds` of `seg` seconds each), so a busy moment of
    the shared machine hits both alike; returns (idle, attacked)."""
    ctx = mp.get_context("spawn")
    sw = Switch(ctx.Event(), ctx.Event(), ctx.Queue())
    proc = ctx.Process(target=target, args=(t, sw, *extra), daemon=True)
    proc.start()
    idle, attacked = Phase(f"idle, between {name[:3]}"), Phase(name)
    idle.peak_rss = server.memory_info().rss  # before the first round: what the server holds at rest
    try:
        assert sw.out.get(timeout=120) == "ready"
        for _ in range(rounds):
            sw.active.clear()
            time.sleep(SETTLE)
            measure(t, idle, seg, None)
            sw.active.set()
            time.sleep(WARMUP)
            measure(t, attacked, seg, server)
        sw.active.clear()
        sw.done.set()
        attacked.attacker = sw.out.get(timeout=150)
    finally:
        sw.done.set()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    return idle, attacked


# --- report ---


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(pairs: list[tuple[Phase, Phase]]) -> None:
    print(
        f"{'phase':<26} {'GetRun p50':>10} {'p99':>8} {'x idle':>7} {'SearchRuns p50':>14} {'p99':>8} "
        f"{'x idle':>7} {'calls':>6} {'server peak RSS':>16}"
    )
    for idle, attacked in pairs:
        for p in (idle, attacked):
            row = [f"{p.name:<26}"]
            for name, width in (("GetRun", 10), ("SearchRuns", 14)):
                p50, p99 = pct(p.latencies[name], 0.5), pct(p.latencies[name], 0.99)
                ratio = p50 / pct(idle.latencies[name], 0.5)
                row += [f"{p50:>{width}.2f}", f"{p99:>8.2f}", f"{ratio:>6.2f}x"]
            calls = sum(len(v) for v in p.latencies.values())
            row += [f"{calls:>6}", f"{p.peak_rss / MIB:>12.0f} MiB"]
            print(" ".join(row))
    print("(latencies in ms; x idle = p50 / p50 of the idle segments taken in turns with that attack;")
    print(" server RSS: on idle rows, before that attack began; on attack rows, the peak during it)")
    for idle, attacked in pairs:
        for p in (idle, attacked):
            if p.errors:
                print(f"  {p.name}: victim errors {dict(p.errors)}")
        print(f"  {attacked.name}: attacker outcomes {dict(attacked.attacker)}")


def main(argv: list[str]) -> None:
    is_quick = quick(argv, "attack")
    rounds, seg, streams, flood = (2, 2.5, 32, 20) if is_quick else (4, 5.0, 64, 40)
    pg = PostgresServer()
    tmp = Path(tempfile.mkdtemp(prefix="strata-bench-attack-"))
    proc = None
    try:
        proc, addr, admin = start_server(tmp / "data", pg.create_database("bench"))
        server = psutil.Process(proc.pid)
        t = setup(addr, admin)
        attacks = [
            ("(a) heavy UpdateRun", attack_updates, ()),
            (f"(b) {streams} upload streams", attack_streams, (streams,)),
            (f"(c) unauth flood x{flood}", attack_flood, (flood,)),
        ]
        pairs = [compare(t, name, target, extra, rounds, seg, server) for name, target, extra in attacks]
        report(pairs)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
