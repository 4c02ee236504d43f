"""The reports service alone: `python -m strata_server.reports` serves its RPCs (one Deployment)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from strata.client import Client
from strata.reports.v1 import reports_service_pb2 as rs

from tests.fixtures.processes import SERVING, free_port, health
from tests.reports.helpers import markdown


def test_the_service_runs_alone(pg_dsn: str, tmp_path: Path) -> None:
    addr = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "STRATA_PG_DSN": pg_dsn,
        "STRATA_DATA_DIR": str(tmp_path),
        "STRATA_LOG_LEVEL": "warning",
    }
    log = tmp_path / "reports.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "strata_server.reports", "--addr", addr], env=env,
                                stdout=out, stderr=out)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while health(addr) != SERVING:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the reports service did not become healthy"
            time.sleep(0.2)
        with Client(addr) as client:
            report = rs.CreateReportRequest(parent="entities/alone/projects/p")
            report.report.title = "alone"
            report.report.blocks.append(markdown("served by the reports service alone"))
            made = client.reports.CreateReport(report).report
            assert client.reports.GetReport(rs.GetReportRequest(name=made.name)).report.title == "alone"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
