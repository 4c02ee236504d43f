"""A server started inside another program that never configured structlog (a benchmark, a tool) logs
with the server's own configuration, not structlog's development defaults (which pretty-print and
re-bind the logger on every call)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(60)

PROGRAM = textwrap.dedent(
    """
    import asyncio, tempfile
    from dataclasses import replace
    from pathlib import Path
    import structlog
    from strata_server.common.config import Settings
    from strata_server.common.server import StrataServer

    assert not structlog.is_configured()
    tmp = Path(tempfile.mkdtemp())
    settings = replace(Settings(), data_dir=tmp, tls_cert_file=tmp / "missing.pem")  # fails after logging
    try:
        asyncio.run(StrataServer([], settings).start())
    except ValueError:
        pass
    config = structlog.get_config()
    print(structlog.is_configured(), config["cache_logger_on_first_use"], type(config["processors"][-1]).__name__)
    """
)


def test_an_embedded_server_configures_structlog_when_nobody_did() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=50)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "JSONRenderer"]
