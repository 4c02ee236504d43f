"""Fixtures of the deployment tests: a clean environment for Settings, and the deployment tool folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from strata_server.common.config import SECRET_VARIABLES


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No secret variable (nor its _FILE twin) and no S3 endpoint inherited from the caller's shell."""
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.delenv("STRATA_S3_ENDPOINT", raising=False)
    yield monkeypatch
