"""The embedded default PostgreSQL: a real server started by `pgserver` in a data folder."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

from .logging import get_logger

log = get_logger(__name__)


def embedded_available() -> bool:
    """True when `pgserver` (the `[embedded]` extra) is installed."""
    return importlib.util.find_spec("pgserver") is not None


class EmbeddedPostgresMissing(RuntimeError):
    """STRATA_PG_DSN is unset and the optional `pgserver` package (the `[embedded]` extra) is absent."""

    def __init__(self) -> None:
        super().__init__(
            "no PostgreSQL: set STRATA_PG_DSN (or STRATA_PG_DSN_FILE) to your database, or install the "
            "embedded one for a single machine: pip install 'strata-ml-server[embedded]'"
        )


class EmbeddedPostgres:
    """Starts (or re-attaches to) a PostgreSQL in `datadir`; `stop()` stops it if this process started it."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir).resolve()
        self._server = None

    def start(self) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR; harmless
            try:
                import pgserver
            except ImportError as e:
                raise EmbeddedPostgresMissing() from e
            self._server = pgserver.get_server(self.datadir, cleanup_mode="stop")
        dsn = self._server.get_uri()
        log.info("embedded_postgres_started", datadir=str(self.datadir))
        return dsn

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded_postgres_stopped", datadir=str(self.datadir))
