"""Fixtures of the W&B drop-in tests: `env`, the open-local server from tests/conftest.py with the
SDK's environment pointed at it (entity "username", as the W&B snippets write it; modules opt in with
`pytestmark = pytest.mark.usefixtures("env")`), and `work`, a scratch folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import strata
from strata.sdk import run as sdk_run

from tests.fixtures.servers import ServerThread


@pytest.fixture(scope="module")
def env(server: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    mp = pytest.MonkeyPatch()
    mp.setenv("STRATA_ADDR", server.addr)
    mp.setenv("STRATA_ENTITY", "username")
    mp.setenv("STRATA_QUIET", "1")
    mp.setenv("STRATA_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))
    mp.delenv("STRATA_PROJECT", raising=False)
    yield server
    mp.undo()


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch working directory; any run left open by a test is finished afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRATA_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path
    while sdk_run._current is not None:
        sdk_run._current.finish()
    assert strata.run is None
