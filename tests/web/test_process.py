"""The console as a process: the all-in-one server (`python -m strata_server`, i.e. `strata server` and
`make run`) starts it beside the gRPC services and prints its URL; in open-local mode no sign-in is
needed; SIGTERM stops both."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.timeout(90)


def test_all_in_one_server_starts_the_console_and_prints_its_url(pg_dsn: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STRATA_PG_DSN": pg_dsn,
        "STRATA_AUTH_MODE": "open-local",
        "STRATA_DATA_DIR": str(tmp_path),
    }
    cmd = [sys.executable, "-m", "strata_server", "--addr", "127.0.0.1:0", "--web-addr", "127.0.0.1:0"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        url, deadline = None, time.monotonic() + 60
        assert proc.stderr is not None
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "the server exited"
            found = re.search(r"console: (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        assert url, "no console URL printed"
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/").status_code == 200  # open-local: the projects page, no sign-in
            me = http.get("/api/v1/me").json()
            assert me["open_local"] is True and me["name"]
            assert http.get("/static/vendor/uPlot.iife.min.js").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_a_taken_console_port_leaves_the_services_serving(pg_dsn: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "STRATA_PG_DSN": pg_dsn,
        "STRATA_AUTH_MODE": "open-local",
        "STRATA_DATA_DIR": str(tmp_path),
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        web_addr = f"127.0.0.1:{taken.getsockname()[1]}"
        cmd = [sys.executable, "-m", "strata_server", "--addr", "127.0.0.1:0", "--web-addr", web_addr]
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            lines, deadline = [], time.monotonic() + 60
            assert proc.stderr is not None
            while time.monotonic() < deadline and not any("stop: Ctrl-C" in x for x in lines):
                line = proc.stderr.readline()
                assert line or proc.poll() is None, "the server exited: " + "".join(lines)
                lines.append(line)
            text = "".join(lines)
            assert "Strata is serving" in text and "console_not_started" in text
            assert "console: http" not in text
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0


def test_static_assets_are_package_data() -> None:
    """The vendored libraries and their licences ship inside the package (no CDN, no Node at run time)."""
    import strata_server.web

    static = Path(strata_server.web.__file__).parent / "static"
    for name in (
        "uPlot.iife.min.js",
        "cytoscape.min.js",
        "cytoscape-dagre.min.js",
        "LICENSE.uplot",
        "LICENSE.cytoscape",
    ):
        assert (static / "vendor" / name).stat().st_size > 0, name
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    data = pyproject["tool"]["setuptools"]["package-data"]["strata_server.web"]
    assert "static/vendor/*" in data and "static/js/*.js" in data


def test_strata_web_serves_the_console_alone(server, tmp_path: Path) -> None:
    """`strata web --addr <services>` runs the console by itself, in front of services elsewhere."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = "import sys; from strata.cli.main import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", code, "web", "--addr", server.addr, "--web-addr", f"127.0.0.1:{port}"]
    env = {**os.environ, "STRATA_AUTH_MODE": "open-local"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/projects", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "the console did not start"
                time.sleep(0.2)
        assert r.status_code == 200 and "projects" in r.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
