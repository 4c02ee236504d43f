"""Fixtures of the rich-value tests: the SDK's spool in a folder of the test's own (online mode)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STRATA_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.delenv("STRATA_MODE", raising=False)
    return tmp_path / "spool"
