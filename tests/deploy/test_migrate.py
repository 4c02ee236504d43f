"""`python -m strata_server migrate`: every service's migrations applied to STRATA_PG_DSN, then exit 0.

The command runs as a process (it configures logging for the whole process, which a test must not do
to the test runner); the migration step itself is also checked in-process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
from strata_server.__main__ import apply_migrations
from strata_server.common.db import discover_migrations


async def _applied(dsn: str) -> set[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT service, name FROM schema_migrations")
    finally:
        await conn.close()
    return {(r["service"], r["name"]) for r in rows}


def migrate_process(**env: str) -> subprocess.CompletedProcess[str]:
    """`python -m strata_server migrate` with no STRATA_PG_DSN* of the caller's, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_PG_DSN")}
    return subprocess.run(
        [sys.executable, "-m", "strata_server", "migrate"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_applies_every_migration_and_exits_0(pg_dsn: str, tmp_path: Path) -> None:
    """The Job's exact command, with the DSN mounted as a file; a second run is a no-op."""
    dsn_file = tmp_path / "pg-dsn"
    dsn_file.write_text(pg_dsn + "\n")
    first = migrate_process(STRATA_PG_DSN_FILE=str(dsn_file))
    assert first.returncode == 0, first.stderr
    assert "migrations_up_to_date" in first.stdout + first.stderr
    expected = {(m.service, m.name) for m in discover_migrations()}
    assert asyncio.run(_applied(pg_dsn)) == expected
    again = migrate_process(STRATA_PG_DSN=pg_dsn)
    assert again.returncode == 0, again.stderr
    assert asyncio.run(apply_migrations(pg_dsn)) == []


def test_migrate_without_a_dsn_says_what_is_missing() -> None:
    done = migrate_process()
    assert done.returncode == 2
    assert "STRATA_PG_DSN" in done.stderr


def test_migrate_refuses_a_placeholder_dsn() -> None:
    done = migrate_process(STRATA_PG_DSN="postgresql://strata:CHANGE-ME@postgres/strata")
    assert done.returncode == 1
    assert "STRATA_PG_DSN still holds the placeholder" in done.stderr
