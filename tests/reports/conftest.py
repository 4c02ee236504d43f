"""Fixtures of the reports tests: `sdk_env`, the open-local server from tests/conftest.py with the
SDK's environment pointed at it (entity "team", console at http://console.test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.servers import ServerThread

WEB_URL = "http://console.test:8080"


@pytest.fixture(scope="module")
def sdk_env(server: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    mp = pytest.MonkeyPatch()
    mp.setenv("STRATA_ADDR", server.addr)
    mp.setenv("STRATA_ENTITY", "team")
    mp.setenv("STRATA_WEB_URL", WEB_URL)
    mp.setenv("STRATA_QUIET", "1")
    mp.delenv("STRATA_PROJECT", raising=False)
    yield server
    mp.undo()
