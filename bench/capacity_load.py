"""The "many runs" load generator: N runs, each streaming K keys at R steps/s over its own StreamMetrics
call (grpc.aio, the wire protocol directly: StreamOpen, then MetricBatch with sequence numbers).

Run as its own process by bench_capacity (so its CPU is measured apart from the server's):

    python -m bench.capacity_load ADDR --runs 1000 --keys 10 --rate 100 --seconds 20

Each run sends, every tick, one batch holding every step that fell due since its last batch, with at
most `window` batches unacknowledged (the SDK's MAX_INFLIGHT): a run whose window is full sends what
fell due meanwhile as one bigger batch once an ack frees a slot, as the SDK merges its waiting
flushes; when the time is up it sends the rest of its schedule at once (as a finishing
run flushes), so every run sends exactly seconds * rate steps and the durable rate is every scheduled
point over the time to its last ack. Prints `STREAMING` when the streams are open and the clock starts, then one
JSON line: acked points, seconds, ack latency p50/p99 (batch written -> ack read), point latency
p50/p99 (the batch's oldest step fell due -> ack read: what a user waits for, including the wait for
the tick and for a window slot), the schedule lag, and the load generator's own CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field

import grpc
import numpy as np
from strata.ingest.v1 import ingest_service_pb2 as pb
from strata.ingest.v1 import ingest_service_pb2_grpc as pb_grpc
from strata.ingest.v1 import metric_pb2

PARENT = "entities/bench/projects/many"
MAX_STEPS_PER_BATCH = 2_000


@dataclass
class Tally:
    """What every run adds up: acked points, ack latencies, steps due vs sent."""

    points: int = 0
    latencies: list[float] = field(default_factory=list)
    point_latencies: list[float] = field(default_factory=list)
    acks: list[tuple[float, int]] = field(default_factory=list)  # (when, points) of every ack
    last_ack: float = 0.0
    due_steps: int = 0
    sent_steps: int = 0


def make_batch(seq: int, keys: list[str], first: int, count: int, when: float) -> metric_pb2.MetricBatch:
    width = len(keys)
    steps = np.repeat(np.arange(first, first + count, dtype=np.int64), width)
    idx = np.tile(np.arange(width, dtype=np.int64), count)
    values = np.sin(steps * 1e-3) + idx
    b = metric_pb2.MetricBatch(sequence=seq, keys=keys)
    b.key_indices.extend(idx.tolist())
    b.steps.extend(steps.tolist())
    b.values.extend(values.tolist())
    b.times.extend([when] * len(steps))
    return b


async def create_runs(stub: pb_grpc.IngestServiceStub, runs: int) -> list[str]:
    gate = asyncio.Semaphore(32)
    tag = os.urandom(3).hex()  # fresh runs on every invocation

    async def one(i: int) -> str:
        async with gate:
            req = pb.CreateRunRequest(parent=PARENT, run_id=f"{tag}{i:06d}")
            name: str = (await stub.CreateRun(req, timeout=60)).run.name
            return name

    return await asyncio.gather(*(one(i) for i in range(runs)))


class RunStream:
    """One run's StreamMetrics call: a sender on a schedule and a reader of acks."""

    def __init__(self, stub: pb_grpc.IngestServiceStub, name: str, keys: list[str], window: int) -> None:
        self.stub, self.name, self.keys, self.window = stub, name, keys, window
        self.call = stub.StreamMetrics()
        self.pending: dict[int, tuple[float, float, int]] = {}  # seq -> (sent, oldest step due, points)
        self.room = asyncio.Semaphore(window)

    async def open(self) -> None:
        open_msg = pb.StreamOpen(run=self.name, stream_id="load")
        await self.call.write(pb.StreamMetricsRequest(open=open_msg))
        first = await self.call.read()
        assert first is not grpc.aio.EOF and first.WhichOneof("kind") == "opened", first

    async def run(self, start: float, rate: float, seconds: float, tick: float, tally: Tally) -> None:
        reader = asyncio.create_task(self._read(tally))
        seq = sent = 0
        next_tick = start + tick * (hash(self.name) % 1000) / 1000  # spread the runs over a tick
        total = int(seconds * rate)
        while sent < total:
            wake = min(next_tick, start + seconds)  # the last batch goes when the time is up
            await asyncio.sleep(max(0.0, wake - time.monotonic()))
            now = time.monotonic()
            if wake == next_tick:
                next_tick += tick
            # Every step due by now; once the time is up, the rest of the schedule (as a finishing
            # run flushes what it logged), so every run sends exactly `total` steps.
            due = (total if now - start >= seconds else int((now - start) * rate)) - sent
            if due <= 0:
                continue
            await self._make_room(reader)
            count = min(due, MAX_STEPS_PER_BATCH)
            seq += 1
            self.pending[seq] = (time.monotonic(), start + sent / rate, count * len(self.keys))
            await self.call.write(
                pb.StreamMetricsRequest(batch=make_batch(seq, self.keys, sent, count, time.time()))
            )
            sent += count
        tally.due_steps += total
        tally.sent_steps += sent
        await self.call.done_writing()
        await reader

    async def _make_room(self, reader: asyncio.Task[None]) -> None:
        """Wait for a free slot in the window; a reader that failed (the stream broke) raises here."""
        slot = asyncio.ensure_future(self.room.acquire())
        await asyncio.wait([slot, reader], return_when=asyncio.FIRST_COMPLETED)
        if not slot.done():
            slot.cancel()
            reader.result()
            raise RuntimeError(f"{self.name}: the stream ended before acknowledging every batch")

    async def _read(self, tally: Tally) -> None:
        while (resp := await self.call.read()) is not grpc.aio.EOF:
            assert isinstance(resp, pb.StreamMetricsResponse)
            if resp.WhichOneof("kind") != "ack":
                continue
            now = time.monotonic()
            for seq in [s for s in self.pending if s <= resp.ack.sequence]:
                sent_at, due_at, points = self.pending.pop(seq)
                tally.latencies.append(now - sent_at)
                tally.point_latencies.append(now - due_at)
                tally.points += points
                tally.acks.append((now, points))
                self.room.release()
            tally.last_ack = now


async def drive(args: argparse.Namespace) -> dict[str, float]:
    keys = [f"train/metric_{i:02d}" for i in range(args.keys)]
    options = [("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]
    channels = [grpc.aio.insecure_channel(args.addr, options=options) for _ in range(args.channels)]
    stubs = [pb_grpc.IngestServiceStub(c) for c in channels]
    names = await create_runs(stubs[0], args.runs)
    streams = [RunStream(stubs[i % len(stubs)], n, keys, args.window) for i, n in enumerate(names)]
    await asyncio.gather(*(s.open() for s in streams))
    tally = Tally()
    print("STREAMING", flush=True)
    cpu0, start = time.process_time(), time.monotonic()
    await asyncio.gather(*(s.run(start, args.rate, args.seconds, args.tick, tally) for s in streams))
    cpu = time.process_time() - cpu0
    for c in channels:
        await c.close()
    lat = np.array(tally.latencies or [0.0])
    point_lat = np.array(tally.point_latencies or [0.0])
    # Sustained: points acknowledged from the end of a warm-up (a tenth of the time) to the end of the
    # schedule, over that window: the rate the server keeps up with, without the first ticks (runs
    # starting) and the last (every run flushing at once).
    warm = args.seconds / 10
    window = [p for t, p in tally.acks if warm <= t - start <= args.seconds]
    return {
        "points": tally.points,
        "seconds": tally.last_ack - start,
        "offered": args.runs * args.keys * args.rate,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
        "point_p50": float(np.percentile(point_lat, 50)),
        "point_p99": float(np.percentile(point_lat, 99)),
        "batches": len(tally.latencies),
        "sent_fraction": tally.sent_steps / max(1, tally.due_steps),
        "sustained": sum(window) / (args.seconds - warm),
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity_load")
    parser.add_argument("addr")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--rate", type=float, default=100.0, help="steps per second per run")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--tick", type=float, default=0.1, help="seconds between a run's batches")
    parser.add_argument("--window", type=int, default=8, help="unacknowledged batches per run at most")
    parser.add_argument("--channels", type=int, default=4, help="HTTP/2 connections the streams share")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(drive(args))), flush=True)


if __name__ == "__main__":
    main()
