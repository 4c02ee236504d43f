"""Fixtures of the registry tests (helpers that write rows and blobs directly are in helpers.py).

The central fixtures (`server`, `pg_dsn`, `keys_server`, ...) come from tests/conftest.py and
tests/fixtures/; a test module seeding its own data overrides `client` with a fixture of that name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def client(server: Any) -> Iterator[Any]:
    """A client of the module's server, over a real channel."""
    with server.client() as c:
        yield c
