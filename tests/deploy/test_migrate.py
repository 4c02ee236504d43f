"""`python -m strata_server migrate`: every service's migrations applied to STRATA_PG_DSN, then exit 0."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from strata_server.__main__ import main
from strata_server.common.db import discover_migrations


async def _applied(dsn: str) -> set[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT service, name FROM schema_migrations")
    finally:
        await conn.close()
    return {(r["service"], r["name"]) for r in rows}


def test_migrate_applies_every_migration_and_exits_0(pg_dsn: str, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STRATA_PG_DSN", pg_dsn)
    with pytest.raises(SystemExit) as first:
        main(["migrate"])
    assert first.value.code == 0
    expected = {(m.service, m.name) for m in discover_migrations()}
    assert asyncio.run(_applied(pg_dsn)) == expected
    with pytest.raises(SystemExit) as again:  # a second run is a no-op
        main(["migrate"])
    assert again.value.code == 0


def test_migrate_as_a_process_reads_the_dsn_file(pg_dsn: str, tmp_path: Path) -> None:
    """The Kubernetes Job's exact command, with the DSN mounted as a file."""
    dsn_file = tmp_path / "pg-dsn"
    dsn_file.write_text(pg_dsn + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATA_PG_DSN")}
    env["STRATA_PG_DSN_FILE"] = str(dsn_file)
    done = subprocess.run(
        [sys.executable, "-m", "strata_server", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "migrations_up_to_date" in done.stdout + done.stderr


def test_migrate_without_a_dsn_says_what_is_missing(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["migrate"])
    assert raised.value.code == 2
    assert "STRATA_PG_DSN" in capsys.readouterr().err
