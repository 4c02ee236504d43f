"""What several benchmarks set up alike: a PostgreSQL database of their own and an in-process Strata
server on a temporary data folder, each torn down when the block ends."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fixtures.postgres import PostgresServer
from tests.fixtures.servers import ServerThread, make_settings


@contextmanager
def postgres_database(name: str = "bench") -> Iterator[str]:
    """A fresh PostgreSQL server with database `name`; yields its DSN, stops the server after."""
    pg = PostgresServer()
    try:
        yield pg.create_database(name)
    finally:
        pg.stop()


@contextmanager
def server_thread(dsn: str, specs: Any = None, **settings: Any) -> Iterator[ServerThread]:
    """A started ServerThread on `dsn` and a temporary data folder (`settings` override defaults)."""
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerThread(make_settings(Path(tmp), dsn, **settings), specs).start()
        try:
            yield srv
        finally:
            srv.stop()
