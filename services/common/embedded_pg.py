"""The embedded default PostgreSQL: a real server started by `pgserver` in a data folder."""

from __future__ import annotations

import warnings
from pathlib import Path

from .logging import get_logger

log = get_logger(__name__)


class EmbeddedPostgres:
    """Starts (or re-attaches to) a PostgreSQL in `datadir`; `stop()` stops it if this process started it."""

    def __init__(self, datadir: Path) -> None:
        self.datadir = Path(datadir).resolve()
        self._server = None

    def start(self) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR; harmless
            import pgserver

            self._server = pgserver.get_server(self.datadir, cleanup_mode="stop")
        dsn = self._server.get_uri()
        log.info("embedded_postgres_started", datadir=str(self.datadir))
        return dsn

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded_postgres_stopped", datadir=str(self.datadir))
