"""Fixtures of the file-transfer tests (blobs, upload sessions, run files, the SDK's transfers).
Helpers that are not fixtures (random files, rows written with SQL, raw chunk streams, byte
counters) live in tests/fixtures/files.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def client_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Client cache and spool folders of the test's own, with the default cache limits."""
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("STRATA_CACHE_MAX_BYTES", raising=False)
    monkeypatch.delenv("STRATA_CACHE_LINK", raising=False)
    return tmp_path
