"""Console benchmarks: the server time of the JSON endpoints behind the pages, each next to the raw gRPC
call it wraps, measured in the same run on the same data.

  * runs table of a large project: first page and match count (exact, and the table's fast estimate
    `estimate=true`), for several filters the box accepts;
  * compare chart: 1,000 runs x 1 metric (samples = 500), as lines and grouped by a config key;
  * run page: one run with 200 metric keys (sampled history of every key in one call);
  * with Chromium installed: time until the run page's charts are drawn in headless Chromium;
  * impact view of a first-layer dataset in the lineage benchmark's layered graph (bench_lineage): the
    first page (page_size=200, as the view asks) next to the same AnalyzeImpact page, and the unpaged
    AnalyzeImpact the view called before paging.

Server time is the console's own `Server-Timing` figure (request in to response head); the baseline is
the same gRPC request timed by a client next to the console.

    make bench BENCH_ARGS=console            # 100,000 runs; 1,000 x 20,000-step series; 200 keys x 100,000 steps;
                                             # a 100,000-node lineage graph
    make bench BENCH_ARGS="console --quick"  # 10,000 runs; 1,000 x 2,000-step series; 200 keys x 2,000 steps;
                                             # a 10,000-node lineage graph
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from strata.lineage.v1 import lineage_service_pb2 as ls
from strata.query.v1 import query_service_pb2 as q
from strata_server.web.config import WebSettings

from tests.fixtures import query as fx
from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings
from tests.fixtures.web import WebThread

ENTITY, PROJECT = "bench", "sweep"
PARENT = f"entities/{ENTITY}/projects/{PROJECT}"
API = f"/api/v1/projects/{ENTITY}/{PROJECT}"
FILTERS = {
    "no filter (default order)": {},
    "state + config range": {"state": "finished", "config.lr": {"$gt": 1e-4}},
    "tag + config equality": {"tags": "t3", "config.fp16": True},
    "very selective config filter": {"config.seed": 4242},
}


def paired(
    http: httpx.Client, method: str, path: str, grpc_call: Callable[[], Any], n: int, **kw: Any
) -> tuple[float, float]:
    """p50 console server time (its Server-Timing) and p50 of the raw gRPC call, measured alternately
    (after 2 warm-ups each) so that load from other work hits both alike."""
    console, raw = [], []
    for i in range(n + 2):
        r = http.request(method, path, **kw)
        r.raise_for_status()
        t = time.perf_counter()
        grpc_call()
        if i >= 2:
            raw.append((time.perf_counter() - t) * 1000)
            console.append(float(r.headers["server-timing"].split("dur=")[1]))
    return statistics.median(console), statistics.median(raw)


def line(label: str, ms: float, base_label: str, base_ms: float) -> None:
    print(f"  {label:<46} p50 {ms:8.1f} ms | {base_label:<28} {base_ms:8.1f} ms  (x{ms / base_ms:5.2f})")


def bench_table(http: httpx.Client, client: Any, n_runs: int, iters: int) -> None:
    print(f"\n-- runs table, {n_runs:,} runs: console endpoint server time vs the gRPC call it wraps")
    for label, flt in FILTERS.items():
        fj = json.dumps(flt) if flt else ""
        req = q.SearchRunsRequest(parent=PARENT, filter_json=fj, order_by=["-created_at"], page_size=50)
        page, raw = paired(
            http, "GET", f"{API}/runs", lambda r=req: client.query.SearchRuns(r), iters, params={"filter": fj}
        )
        line(f"first page: {label}", page, "SearchRuns (gRPC)", raw)
        creq = q.CountRunsRequest(parent=PARENT, filter_json=fj)
        count, raw = paired(
            http,
            "GET",
            f"{API}/runs-count",
            lambda r=creq: client.query.CountRuns(r),
            iters,
            params={"filter": fj},
        )
        line(f"match count: {label}", count, "CountRuns (gRPC)", raw)
        ereq = q.CountRunsRequest(parent=PARENT, filter_json=fj, allow_estimate=True)
        params = {"filter": fj, "estimate": "true"}
        guess = http.get(f"{API}/runs-count", params=params).json()
        count, raw = paired(
            http, "GET", f"{API}/runs-count", lambda r=ereq: client.query.CountRuns(r), iters, params=params
        )
        shown = f"{'≈ ' if guess['estimated'] else ''}{guess['count']:,}"
        line(f"  with estimate ({shown})", count, "CountRuns estimate (gRPC)", raw)


def load_series(srv: ServerThread, project_id: int, runs: int, points: int, keys: list[str]) -> list[str]:
    ids = []
    rng = np.random.default_rng(7)
    for i in range(runs):
        run_id = f"cmp-{i:05d}" if len(keys) == 1 else f"wide-{i}"
        pk = srv.run(fx.add_run(srv.deps.pool, project_id, run_id, config={"lr": [1e-3, 3e-4, 1e-4][i % 3]}))
        steps = np.arange(points)
        for key in keys:
            values = np.cumsum(rng.standard_normal(points)) / 100 + 1
            srv.run(fx.add_series(srv.deps.pool, pk, key, steps, values, chunk_points=1000), timeout=600)
        ids.append(run_id)
    return ids


def bench_compare(
    srv: ServerThread, http: httpx.Client, client: Any, project_id: int, points: int, iters: int
) -> None:
    t = time.perf_counter()
    ids = load_series(srv, project_id, 1000, points, ["train/loss"])
    print(
        f"\n-- compare: 1,000 runs x 1 metric of {points:,} points, samples=500 (loaded in {time.perf_counter() - t:.0f} s)"
    )
    body = {"runs": ids, "key": "train/loss", "samples": 500}
    req = q.BatchGetHistoryRequest(runs=[f"{PARENT}/runs/{r}" for r in ids], keys=["train/loss"], samples=500)
    batch = lambda: client.query.BatchGetHistory(req)  # noqa: E731
    ms, raw = paired(http, "POST", f"{API}/compare", batch, iters, json=body)
    line("compare, one line per run", ms, "BatchGetHistory (gRPC)", raw)
    ms, raw = paired(http, "POST", f"{API}/compare", batch, iters, json={**body, "group_by": "config.lr"})
    line("compare, grouped by config.lr (3 bands)", ms, "BatchGetHistory (gRPC)", raw)


def bench_run_page(
    srv: ServerThread, http: httpx.Client, client: Any, project_id: int, steps: int, iters: int
) -> str:
    keys = [f"layer{i:03d}/grad_norm" for i in range(200)]
    t = time.perf_counter()
    load_series(srv, project_id, 1, steps, keys)
    print(
        f"\n-- run page: one run with 200 keys x {steps:,} steps (loaded in {time.perf_counter() - t:.0f} s)"
    )
    run = f"{PARENT}/runs/wide-0"
    req = q.GetHistoryRequest(run=run, keys=keys, samples=500)
    history = lambda: client.query.GetHistory(req)  # noqa: E731
    ms, raw = paired(http, "GET", f"{API}/runs/wide-0/history", history, iters, params={"key": keys})
    line("history of all 200 keys (samples=500)", ms, "GetHistory (gRPC)", raw)
    list_keys = lambda: client.query.ListMetricKeys(q.ListMetricKeysRequest(run=run))  # noqa: E731
    ms, raw = paired(http, "GET", f"{API}/runs/wide-0/keys", list_keys, iters)
    line("metric keys of the run", ms, "ListMetricKeys (gRPC)", raw)
    return "wide-0"


def bench_browser(url: str, run_id: str, tries: int) -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("\n-- browser: chromium/chromedriver not installed (make browser); skipped")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        times = []
        for _ in range(tries + 1):
            t = time.perf_counter()
            driver.get(f"{url}/p/{ENTITY}/{PROJECT}/runs/{run_id}")
            WebDriverWait(driver, 60, poll_frequency=0.02).until(
                lambda d: d.execute_script("return document.body.dataset.chartsReady")
            )
            times.append(time.perf_counter() - t)
        print(
            f"\n-- browser: run page with 200 keys, navigation to charts drawn in headless Chromium: "
            f"p50 {statistics.median(times[1:]) * 1000:.0f} ms (goal: 2,000 ms; first load {times[0] * 1000:.0f} ms)"
        )
    finally:
        driver.quit()


def bench_impact(pg: PostgresServer, tmp: Path, width: int, layers: int, iters: int) -> None:
    """The impact view over the lineage benchmark's layered graph, in its own database (its fixed ids
    would collide with the runs table's project)."""
    from strata_server.lineage.server import SPEC as LINEAGE

    from bench.bench_lineage import build_rows, load, version_name

    dsn = pg.create_database("bench_console_impact")
    srv = ServerThread(make_settings(tmp / "impact", dsn, pg_pool_max=4), specs=[LINEAGE]).start()
    web = WebThread(WebSettings(web_addr="127.0.0.1:0", grpc_addr=srv.addr, auth_mode="open-local")).start()
    try:
        rows = build_rows(width, layers)
        asyncio.run(load(dsn, rows))
        node = version_name(1, width)
        client = srv.client(timeout=600)
        t = time.perf_counter()
        whole = client.lineage.AnalyzeImpact(ls.AnalyzeImpactRequest(node=node, max_nodes=100_000))
        unpaged = (time.perf_counter() - t) * 1000
        graph = f"{len(rows['runs']) + len(rows['versions']):,}-node graph"
        print(
            f"\n-- impact view of a first-layer dataset ({len(whole.graph.nodes) - 1:,} nodes downstream, {graph})"
        )
        req = ls.AnalyzeImpactRequest(node=node, max_nodes=100_000, page_size=200)
        with httpx.Client(base_url=web.url, timeout=600) as http:
            ms, raw = paired(
                http,
                "GET",
                "/api/v1/impact",
                lambda: client.lineage.AnalyzeImpact(req),
                iters,
                params={"node": node, "page_size": 200},
            )
        line("impact first page (200 nodes)", ms, "AnalyzeImpact page (gRPC)", raw)
        print(f"  {'(before paging: one unpaged AnalyzeImpact)':<46} {unpaged:13.1f} ms")
    finally:
        web.stop()
        srv.stop()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench console")
    parser.add_argument("--quick", action="store_true", help="10k runs, 2,000-step series, fewer repetitions")
    parser.add_argument(
        "--run-page-steps", type=int, help="steps per key of the 200-key run (default 100,000)"
    )
    args = parser.parse_args(argv)
    n_runs, points, iters = (10_000, 2_000, 5) if args.quick else (100_000, 20_000, 15)
    steps = args.run_page_steps or (2_000 if args.quick else 100_000)
    pg = PostgresServer()
    try:
        dsn = pg.create_database("bench_console")
        with tempfile.TemporaryDirectory() as tmp:
            srv = ServerThread(make_settings(Path(tmp), dsn, rollup_interval=0.0, pg_pool_max=4)).start()
            web = WebThread(
                WebSettings(web_addr="127.0.0.1:0", grpc_addr=srv.addr, auth_mode="open-local")
            ).start()
            try:
                project_id = srv.run(fx.create_project(srv.deps.pool, ENTITY, PROJECT))
                t = time.perf_counter()
                srv.run(fx.bulk_runs(srv.deps.pool, project_id, n_runs), timeout=3600)
                print(f"loaded {n_runs:,} runs in {time.perf_counter() - t:.0f} s (COPY)")
                client = srv.client(timeout=120)
                with httpx.Client(base_url=web.url, timeout=120, headers={"Origin": web.url}) as http:
                    bench_table(http, client, n_runs, iters)
                    bench_compare(srv, http, client, project_id, points, iters)
                    run_id = bench_run_page(srv, http, client, project_id, steps, iters)
                bench_browser(web.url, run_id, 3)
            finally:
                web.stop()
                srv.stop()
            bench_impact(pg, Path(tmp), *((200, 25) if args.quick else (1000, 50)), iters)
    finally:
        pg.stop()
    print("\n(2-core machine shared with other work: client, console, server and PostgreSQL share it)")
