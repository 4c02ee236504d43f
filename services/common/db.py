"""PostgreSQL: the asyncpg pool, versioned migrations, and deadline-derived timeouts.

Migrations are plain SQL files `services/<service>/migrations/NNNN_name.sql`. Every process applies all
pending ones at start-up (the schema is one, each service owns its own tables), inside one transaction
per file, serialized across processes by a PostgreSQL advisory lock, so several replicas starting at
once are safe and a second start is a no-op. An applied file must never change: its checksum is
recorded and a mismatch stops the start-up.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg
import grpc
from asyncpg.pool import PoolConnectionProxy

from . import metrics
from .logging import get_logger

log = get_logger(__name__)

SERVICES_ROOT = Path(__file__).resolve().parents[1]
# Order matters: later services reference earlier services' tables.
MIGRATION_ORDER = ("iam", "ingest", "registry", "lineage", "query", "reports")
_MIGRATION_LOCK = 7_268_716_150  # arbitrary constant shared by every Strata process
_FILE_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
DEFAULT_TIMEOUT = 30.0

# What every store function takes: `asyncpg.connect()` gives a Connection, `pool.acquire()` a proxy
# of one; both offer the same query and transaction methods.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


@dataclass(frozen=True)
class Migration:
    service: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover_migrations(root: Path = SERVICES_ROOT) -> list[Migration]:
    found: list[Migration] = []
    for service in MIGRATION_ORDER:
        folder = root / service / "migrations"
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            m = _FILE_RE.match(path.name)
            if m:
                found.append(Migration(service, int(m.group(1)), path.name, path.read_text()))
            elif path.suffix == ".sql":
                raise RuntimeError(f"migration file name must look like 0001_name.sql: {path}")
    return found


async def migrate(conn: Conn, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied. Safe to call from many processes at once."""
    migrations = discover_migrations() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   service text NOT NULL, version int NOT NULL, name text NOT NULL,
                   checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (service, version))"""
        )
        rows = await conn.fetch("SELECT service, version, checksum FROM schema_migrations")
        applied = {(r["service"], r["version"]): r["checksum"] for r in rows}
        done: list[str] = []
        for m in migrations:
            key = (m.service, m.version)
            if key in applied:
                if applied[key] != m.checksum:
                    raise RuntimeError(f"applied migration {m.service}/{m.name} was modified; add a new one")
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (service, version, name, checksum) VALUES ($1,$2,$3,$4)",
                    m.service,
                    m.version,
                    m.name,
                    m.checksum,
                )
            done.append(f"{m.service}/{m.name}")
        if done:
            log.info("migrations_applied", migrations=done)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 16,
    statement_timeout: float = 0.0,
    apply_migrations: bool = True,
    **kwargs: Any,
) -> asyncpg.Pool:
    """Open the pool (and bring the schema up to date first). Every connection of the pool gets
    `statement_timeout` seconds (0: none) as its PostgreSQL statement_timeout, so a runaway statement
    cannot hold a connection that other callers wait for; migrations run on their own connection
    without it."""
    if statement_timeout > 0:
        settings = dict(kwargs.pop("server_settings", None) or {})
        settings.setdefault("statement_timeout", str(max(1, round(statement_timeout * 1000))))
        kwargs["server_settings"] = settings
    if apply_migrations:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, **kwargs)
    assert pool is not None
    metrics.watch_pool(pool)  # size, in use and acquire waits on /metrics
    return pool


def timeout_from(context: grpc.aio.ServicerContext | None, default: float = DEFAULT_TIMEOUT) -> float:
    """Deadlines flow downstream: a query or pool acquire never outlives the caller's deadline."""
    if context is None:
        return default
    remaining = context.time_remaining()
    if remaining is None:
        return default
    return max(0.001, min(default, remaining))
