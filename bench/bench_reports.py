"""Report panel benchmarks: the panel data of a grouped LinePlot and of a RunsTable, computed by the
reports service, each printed next to a baseline measured in the same run.

    make bench BENCH_ARGS=reports            # 1,000 runs x 20,000 steps x 2 metrics; a 10,000-run table
    make bench BENCH_ARGS="reports --quick"  # 200 runs x 5,000 steps x 2 metrics; a 2,000-run table

LinePlot: y = two metrics, grouped by a config key with 5 values (mean line, min-max band): the
panel's server time (in-process, one query for all runs and keys, reading the rollups the query
service's job keeps: the job runs once after loading, as it would in the background) next to the naive
way, one history call per run (GetHistory's code, 500 samples, in-process) folded in Python; then
GetPanelData over gRPC end to end, and the same panel with x = "_timestamp". RunsTable: the panel's server time for every run of the project next to paging
through SearchRuns (1,000 runs a page, in-process). Then each report's console page in headless
Chromium (when chromium and chromedriver are installed): navigation until every panel is drawn.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from strata.reports.v1 import report_pb2 as rp
from strata.reports.v1 import reports_service_pb2 as rs

from bench.serving import postgres_database, server_thread
from tests.fixtures import query as fx
from tests.fixtures.servers import ServerThread

PARENT = "entities/bench/projects/reports"
ARCHS = ("resnet", "vit", "mlp", "cnn", "lstm")
KEYS = ("train/loss", "val/loss")


async def load_curves(pool: Any, project_id: int, runs: int, steps: int) -> list[str]:
    """`runs` runs (config.arch: 5 values) with two metrics of `steps` points each, by COPY."""
    rng = np.random.default_rng(3)
    async with pool.acquire() as conn:
        start = int(await conn.fetchval("SELECT COALESCE(max(id), 0) + 1 FROM runs"))
        ids = list(range(start, start + runs))
        run_rows = [(i, project_id, f"c-{i}", f"c-{i}", 2, json.dumps({"arch": ARCHS[i % 5]})) for i in ids]
        cols = ["id", "project_id", "run_id", "display_name", "state", "config"]
        await conn.copy_records_to_table("runs", records=run_rows, columns=cols)
        await conn.execute("SELECT setval('runs_id_seq', (SELECT max(id) FROM runs))")
        keys = [(i, k, key, steps, steps) for i in ids for k, key in enumerate(KEYS)]
        await conn.copy_records_to_table(
            "metric_keys", records=keys, columns=["run_id", "key_id", "key", "count", "finite_count"]
        )
        s = np.arange(steps, dtype="<i8")
        times = (1.7e9 + s * 0.01).astype("<f8")
        cols = ["run_id", "key_id", "first_step", "last_step", "n", "steps", "vals", "times"]
        for i in ids:
            rows = []
            for k in range(len(KEYS)):
                vals = (1 / (1 + s) + rng.standard_normal(steps) * 0.01).astype("<f8")
                for a in range(0, steps, 1000):
                    b = min(steps, a + 1000)
                    rows.append(
                        (i, k, a, b - 1, b - a, s[a:b].tobytes(), vals[a:b].tobytes(), times[a:b].tobytes())
                    )
            await conn.copy_records_to_table("metric_chunks", records=rows, columns=cols)
        await conn.execute("ANALYZE metric_chunks; ANALYZE metric_keys; ANALYZE runs")
    return [f"{PARENT}/runs/c-{i}" for i in ids]


async def roll_up(deps: Any) -> int:
    """Run the query service's rollup job until nothing is pending (it runs in the background in a
    deployment); returns the keys rolled."""
    from strata_server.query.history import rollup

    keys = 0
    while got := await rollup.rollup_pass(deps):
        keys += got["keys_rolled"]
    async with deps.pool.acquire() as conn:
        await conn.execute("ANALYZE metric_rollups")
    return keys


def timed(srv: ServerThread, fn: Callable[[], Awaitable[Any]], n: int) -> float:
    """Median wall time (ms) of n runs after one warm-up."""
    out = []
    for i in range(n + 1):
        t = time.perf_counter()
        srv.run(fn(), timeout=3600)
        if i:
            out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def line(label: str, ms: float, base_label: str, base_ms: float) -> None:
    print(f"  {label}: {ms:,.0f} ms   | {base_label}: {base_ms:,.0f} ms   ({base_ms / max(ms, 1e-9):.1f}x)")


def bench_line_plot(srv: ServerThread, names: list[str], steps: int, iters: int) -> str:
    from strata_server.query.history import domain as hd
    from strata_server.reports.panels import domain as panels

    runset = panels.RunsetSpec("", "", (), len(names))
    spec = panels.PanelSpec("line_plot", y=KEYS, groupby="config.arch")

    async def panel() -> Any:
        got = await panels.panel_data(srv.deps, PARENT, [runset], spec, 3600)
        assert len(got.lines) == len(KEYS) * len(ARCHS)
        return got

    async def naive() -> Any:  # one history call per run, grouped and averaged in Python
        sums: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(500))
        async with (
            srv.deps.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            for i, name in enumerate(names):
                pk = await hd.resolve_run(conn, name, "run", 3600)
                for series in await hd._history_of_run(conn, name, pk, list(KEYS), 500, None, None, "_step"):
                    y = np.interp(np.linspace(0, steps - 1, 500), series.steps, series.values)
                    sums[(series.key, ARCHS[i % 5])] += y
        return sums

    async def by_time() -> Any:
        return await panels.panel_data(srv.deps, PARENT, [runset], timed_spec, 3600)

    timed_spec = panels.PanelSpec("line_plot", y=KEYS, x="_timestamp", groupby="config.arch")
    fast, slow = timed(srv, panel, iters), timed(srv, naive, max(1, iters // 3))
    wall = timed(srv, by_time, iters)
    print(f"\n-- grouped LinePlot: {len(names):,} runs x {steps:,} steps x {len(KEYS)} metrics, 5 groups")
    line("panel data, server time (in-process)", fast, "one history call per run", slow)
    print(f"  the same panel with x = _timestamp: {wall:,.0f} ms")
    client = srv.client()
    grid = rp.PanelGrid(
        runsets=[rp.Runset(limit=len(names))],
        panels=[rp.Panel(line_plot=rp.LinePlot(y=list(KEYS), groupby="config.arch"))],
    )
    report = rp.Report(title="bench", blocks=[rp.Block(panel_grid=grid)])
    name = client.reports.CreateReport(rs.CreateReportRequest(parent=PARENT, report=report)).report.name
    req = rs.GetPanelDataRequest(report=name)
    rpc = []
    for i in range(iters + 1):
        t = time.perf_counter()
        client.reports.GetPanelData(req, timeout=3600)
        if i:
            rpc.append((time.perf_counter() - t) * 1000)
    print(f"  GetPanelData over gRPC, end to end: p50 {statistics.median(rpc):,.0f} ms")
    return name


def bench_runs_table(srv: ServerThread, project_id: int, n: int, iters: int) -> str:
    from strata_server.query.search import domain as search
    from strata_server.reports.panels import domain as panels

    parent = "entities/bench/projects/table"
    columns = ("name", "state", "config.lr", "config.optimizer", "summary.val/f1", "summary.val/loss")
    runset = panels.RunsetSpec("", "", ("-summary.val/f1",), n)
    spec = panels.PanelSpec("runs_table", columns=columns)

    async def panel() -> Any:
        got = await panels.panel_data(srv.deps, parent, [runset], spec, 3600)
        assert len(got.rows) == n
        return got

    async def paged() -> int:
        token, count = "", 0
        while True:
            req = search.SearchRequest(parent, "", ["-summary.val/f1"], 1000, token, list(columns[2:]))
            runs, token = await search.search_runs(srv.deps.pool, req, 3600)
            count += len(runs)
            if not token:
                return count

    fast, base = timed(srv, panel, iters), timed(srv, paged, iters)
    print(f"\n-- RunsTable: {n:,} runs, {len(columns)} columns, ordered by a summary")
    line("panel data, server time (in-process)", fast, "SearchRuns paged by 1,000", base)
    table = rp.RunsTable(columns=list(columns))
    grid = rp.PanelGrid(
        runsets=[rp.Runset(order=["-summary.val/f1"], limit=n)], panels=[rp.Panel(runs_table=table)]
    )
    report = rp.Report(title="bench table", blocks=[rp.Block(panel_grid=grid)])
    req = rs.CreateReportRequest(parent=parent, report=report)
    return str(srv.client().reports.CreateReport(req).report.name)


def bench_browser(srv: ServerThread, reports: list[tuple[str, str]], tries: int) -> None:
    """Each report's page in headless Chromium: navigation until every panel is drawn (p50)."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        print("\n-- browser: chromium/chromedriver not installed (make browser); skipped")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    from strata_server.web.config import WebSettings

    from tests.fixtures.web import WebThread

    web = WebThread(WebSettings(web_addr="127.0.0.1:0", grpc_addr=srv.addr, auth_mode="open-local")).start()
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    drawn = "return document.querySelectorAll('.panel:not([data-ready])').length === 0 && !!document.querySelector('.panel')"
    print("\n-- report pages in headless Chromium (navigation until every panel is drawn; goal 3,000 ms)")
    try:
        for label, name in reports:
            entity, project, report = name.split("/")[1::2]
            times = []
            for _ in range(tries + 1):
                t = time.perf_counter()
                driver.get(f"{web.url}/p/{entity}/{project}/reports/{report}")
                WebDriverWait(driver, 120, poll_frequency=0.02).until(lambda d: d.execute_script(drawn))
                times.append((time.perf_counter() - t) * 1000)
            assert not driver.find_elements("css selector", ".panel[data-error]"), label
            print(f"  {label}: p50 {statistics.median(times[1:]):,.0f} ms (first load {times[0]:,.0f} ms)")
    finally:
        driver.quit()
        web.stop()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench reports")
    parser.add_argument("--quick", action="store_true", help="200 runs x 5,000 steps; a 2,000-run table")
    parser.add_argument("--runs", type=int, default=0, help="LinePlot runs (default 1,000; quick 200)")
    parser.add_argument("--steps", type=int, default=0, help="steps per metric (default 20,000; quick 5,000)")
    args = parser.parse_args(argv)
    runs, steps, table, iters = (200, 5000, 2000, 3) if args.quick else (1000, 20_000, 10_000, 5)
    runs, steps = args.runs or runs, args.steps or steps
    with postgres_database() as dsn, server_thread(dsn, rollup_interval=0.0, pg_pool_max=4) as srv:
        t = time.perf_counter()
        project_id = srv.run(fx.create_project(srv.deps.pool, "bench", "reports"))
        names = srv.run(load_curves(srv.deps.pool, project_id, runs, steps), timeout=7200)
        table_id = srv.run(fx.create_project(srv.deps.pool, "bench", "table"))
        srv.run(fx.bulk_runs(srv.deps.pool, table_id, table), timeout=7200)
        print(f"loaded in {time.perf_counter() - t:.0f} s (COPY)")
        t = time.perf_counter()
        rolled = srv.run(roll_up(srv.deps), timeout=7200)
        print(f"rollup job: {rolled:,} keys rolled in {time.perf_counter() - t:.0f} s")
        lines = bench_line_plot(srv, names, steps, iters)
        runs_table = bench_runs_table(srv, table_id, table, iters)
        bench_browser(
            srv, [(f"grouped LinePlot, {runs:,} runs", lines), (f"RunsTable, {table:,} runs", runs_table)], 3
        )
    print("\n(2-core machine shared with other work: client, server and PostgreSQL share it; figures move)")
