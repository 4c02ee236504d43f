"""The embedded default: every service in one process on one port, and the `migrate` one-shot.

`python -m strata_server` (also `strata server` and `make run`) serves every service; the web console
starts beside it on STRATA_WEB_ADDR (default http://127.0.0.1:8080).
`python -m strata_server migrate` applies every service's pending migrations to STRATA_PG_DSN (or
STRATA_PG_DSN_FILE) and exits: a deployment runs it once (a Kubernetes Job, a Compose one-shot) before
rolling out, so the schema change happens once, ahead of the pods, instead of in whichever pod starts
first.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import asyncpg

from .common import logging as slog
from .common.config import Settings
from .common.db import migrate
from .common.server import ServiceSpec, run_main

CONNECT_TIMEOUT = 30.0


def all_specs() -> list[ServiceSpec]:
    from .iam.server import SPEC as IAM
    from .ingest.server import SPEC as INGEST
    from .lineage.server import SPEC as LINEAGE
    from .query.server import SPEC as QUERY
    from .registry.server import SPEC as REGISTRY
    from .reports.server import SPEC as REPORTS

    return [INGEST, REGISTRY, LINEAGE, QUERY, IAM, REPORTS]


async def apply_migrations(dsn: str) -> list[str]:
    """Apply every service's pending migrations (serialized with any starting server); the names applied."""
    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def migrate_main(argv: Sequence[str]) -> int:
    """`python -m strata_server migrate`: exit status 0 when the schema is up to date."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__ or 'strata_server'} migrate",
        description="Apply every service's pending migrations to STRATA_PG_DSN and exit.",
    )
    parser.parse_args(argv)
    settings = Settings.from_env()
    if settings.pg_dsn is None:
        print(
            "migrate needs STRATA_PG_DSN or STRATA_PG_DSN_FILE "
            "(the embedded default applies its migrations when it starts)",
            file=sys.stderr,
        )
        return 2
    slog.configure(settings.log_level, settings.log_format)
    applied = asyncio.run(apply_migrations(settings.pg_dsn))
    slog.get_logger(__name__).info("migrations_up_to_date", applied=len(applied))
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["migrate"]:
        raise SystemExit(migrate_main(args[1:]))
    run_main(
        all_specs(),
        args,
        description="Strata: all services and the web console in one process (the embedded default).",
        console=True,
    )


if __name__ == "__main__":
    main()
