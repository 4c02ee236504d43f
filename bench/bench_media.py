"""Rich-value benchmarks: what run.log of an image costs the training thread, images end to end
through one run next to direct blob-store puts of the same bytes, and the scalar ingest rate with media
logged alongside. Each figure is printed next to a baseline measured in the same run.

    python -m bench media             # 10,000 images end to end
    python -m bench media --quick     # 1,000

Figures:
  log cost   median µs of the calling thread per run.log({"img": strata.Image(256x256x3 uint8)}) (goal
             <= 50 µs: the check and a private copy of the pixels; encoding happens on the media
             thread), next to a bare np.copy of the same pixels (the floor of any logger that lets the
             caller change its array afterwards) and to run.log of one scalar; once with a 5 ms
             training step between calls, once back to back (a burst: the media thread falls behind,
             no recycled buffer is free, and the copies go to fresh memory, whose page faults cost the
             most); the mean is printed too
  end to end N distinct 64x64 RGB images logged in one run until finish() returns (encoded, spooled,
             uploaded, indexed), next to direct S3 puts (minio, 8 threads) of the same PNG bytes
  scalars    points/s of 10 scalars per step until all are committed, alone and with a 64x64 image every
             100 and every 10 steps (the images' own delivery is not waited for): the ratio. A tight loop
             logging an image every 10 steps asks for thousands of images/s, more than the media
             pipeline delivers: run.log then waits for room in the media queue (the back-pressure)
The server runs as its own process (python -m strata_server) on SeaweedFS S3, like in production.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def log_cost(addr: str, calls: int, step_seconds: float) -> tuple[float, float, float, float]:
    """Median µs per run.log of one 256x256 image (and its mean: page faults and preemption make the
    tail), per run.log of one scalar, and per bare np.copy of the same pixels, with `step_seconds` of
    other work (a training step, here a sleep) between calls; 0: back to back (a burst). The bare
    copies run in a loop of their own, before the run, with the same pause; each is dropped at once,
    so its memory is reused: the floor of a copy."""
    import strata

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    copy_times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        img.copy()
        copy_times.append(time.perf_counter() - t0)
        if step_seconds:
            time.sleep(step_seconds)
    run = strata.init(project="bench-media", addr=addr)
    image_times, scalar_times = [], []
    for step in range(calls):
        t0 = time.perf_counter()
        run.log({"img": strata.Image(img)}, step=step, commit=False)
        t1 = time.perf_counter()
        run.log({"loss": 0.5})
        t2 = time.perf_counter()
        image_times.append(t1 - t0)
        scalar_times.append(t2 - t1)
        if step_seconds:
            time.sleep(step_seconds)
    run.finish()
    median = statistics.median
    mean = statistics.mean(image_times) * 1e6
    return median(image_times) * 1e6, mean, median(scalar_times) * 1e6, median(copy_times) * 1e6


def images(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(n)]


def end_to_end(addr: str, pixels: list[np.ndarray]) -> float:
    import strata

    run = strata.init(project="bench-media", addr=addr)
    t0 = time.perf_counter()
    for step, img in enumerate(pixels):
        run.log({"img": strata.Image(img)}, step=step)
    run.finish()
    elapsed = time.perf_counter() - t0
    got = strata.Api(addr=addr).run(run.path).media_keys()
    assert got and got[0]["count"] == len(pixels), got
    return elapsed


def direct_puts(minio: object, blobs: list[bytes]) -> float:
    t0 = time.perf_counter()

    def put(i: int) -> None:
        data = blobs[i]
        minio.put_object("direct-bench", f"media/{i}", io.BytesIO(data), len(data))  # type: ignore[attr-defined]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(len(blobs))))
    return time.perf_counter() - t0


def scalar_rate(addr: str, steps: int, every: int) -> float:
    """Points/s of 10 scalars per step until all are committed, with a 64x64 image every `every`
    steps (0: none)."""
    import strata

    pixels = images(steps // every) if every else []
    run = strata.init(project="bench-media", addr=addr)
    t0 = time.perf_counter()
    for step in range(steps):
        values: dict[str, object] = {f"m{k}": step * 0.1 + k for k in range(10)}
        if every and step % every == 0:
            values["img"] = strata.Image(pixels[step // every])
        run.log(values)
    window = run._window
    assert window is not None
    while window.committed_points < steps * 10:  # every scalar committed (media may still be on their way)
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    run.finish()
    return steps * 10 / elapsed


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench media")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n_images = 1_000 if args.quick else 10_000
    calls = 500 if args.quick else 2_000
    steps = 20_000 if args.quick else 100_000
    os.environ.setdefault("STRATA_SYSTEM_METRICS_INTERVAL", "0")
    os.environ.setdefault("STRATA_MEDIA_QUEUE", str(calls + 10))
    os.environ.setdefault("STRATA_QUIET", "1")
    from strata.sdk.media import png

    from bench.bench_files import Stack

    with tempfile.TemporaryDirectory(prefix="strata-bench-media-") as tmp:
        os.environ["STRATA_SPOOL_DIR"] = str(Path(tmp) / "spool")
        stack = Stack(Path(tmp))
        try:
            for label, pause in (("a 5 ms step", 0.005), ("back to back", 0.0)):
                image_us, image_mean, scalar_us, copy_us = log_cost(stack.addr, calls, pause)
                print(
                    f"log cost    ({label}) run.log(Image 256x256x3): {image_us:.1f} µs/call (goal <= 50; mean {image_mean:.0f})   "
                    f"np.copy of its pixels: {copy_us:.1f} µs (ratio {image_us / copy_us:.1f}x)   "
                    f"run.log(1 scalar): {scalar_us:.1f} µs/call   load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
            pixels = images(n_images)
            blobs = [png(p) for p in pixels]
            strata_s = end_to_end(stack.addr, pixels)
            direct_s = direct_puts(stack.minio, blobs)
            mb = sum(map(len, blobs)) / 1e6
            print(
                f"end to end  {n_images} images 64x64 ({mb:.0f} MB PNG): strata {n_images / strata_s:.0f} images/s "
                f"({strata_s:.1f}s, encode+spool+upload+index)   direct S3 put {n_images / direct_s:.0f} images/s "
                f"({direct_s:.1f}s)   ratio {direct_s / strata_s:.2f}x",
                flush=True,
            )
            alone = scalar_rate(stack.addr, steps, 0)
            for every in (100, 10):
                mixed = scalar_rate(stack.addr, steps, every)
                print(
                    f"scalars     {steps} steps x 10 keys: alone {alone:,.0f} points/s   with a 64x64 image every "
                    f"{every} steps {mixed:,.0f} points/s   ratio {mixed / alone:.2f}",
                    flush=True,
                )
            print("(a shared machine: figures vary from run to run)")
        finally:
            stack.close()
