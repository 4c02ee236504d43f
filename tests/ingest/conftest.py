"""Fixtures of the ingest tests (runs, the metric stream, the SDK's spool). Helpers that are not
fixtures (raw batches and streams, stored points, an ingest server subprocess, a PostgreSQL a test
may stop) live in tests/fixtures/ingest.py, which the benchmarks import too."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A spool folder of the test's own for the SDK, which runs in its default (online) mode."""
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("STRATA_MODE", raising=False)
    return tmp_path / "spool"
