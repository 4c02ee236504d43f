"""Fixtures of the deployment tests: a clean environment for Settings, and the deployment tool folder."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[2]
DEPLOY_VENV = ROOT / ".tools" / "deploy-venv"


@pytest.fixture(scope="session")
def deploy_python() -> Path:
    """The Python of the deployment validators, installed by `make deploy-tools` when missing.

    Skips (with the installer's last words) only when the tools cannot be installed, e.g. offline."""
    if not (DEPLOY_VENV / ".installed").exists():
        done = subprocess.run(
            ["make", "-s", "deploy-tools"], cwd=ROOT, capture_output=True, text=True, timeout=900
        )
        if done.returncode != 0:
            pytest.skip(f"the deployment validators cannot be installed: {done.stderr.strip()[-500:]}")
    return DEPLOY_VENV / "bin" / "python"


def _nginx() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.fixture(scope="session")
def nginx() -> str:
    """Debian's nginx, installed by `make deploy-nginx` when missing; skips only when it cannot be."""
    if _nginx() is None:
        done = subprocess.run(
            ["make", "-s", "deploy-nginx"], cwd=ROOT, capture_output=True, text=True, timeout=900
        )
        if _nginx() is None:
            pytest.skip(f"nginx cannot be installed here: {done.stderr.strip()[-500:]}")
    return str(_nginx())
