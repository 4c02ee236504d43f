"""The console's settings, read from the environment (documented in common/config.py SETTINGS_DOC)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..common.config import _secret

DEFAULT_WEB_ADDR = "127.0.0.1:8080"


@dataclass(frozen=True)
class WebSettings:
    """Where the console listens, which gRPC server it calls and how sessions behave."""

    web_addr: str = DEFAULT_WEB_ADDR
    grpc_addr: str = "127.0.0.1:50051"
    auth_mode: str = "keys"  # "open-local": no sign-in, calls carry no key
    session_seconds: float = 12 * 3600.0
    grpc_timeout: float = 30.0
    pg_dsn: str | None = None  # set: sessions shared by every replica in PostgreSQL (web/sessions.py)
    session_cache_seconds: float = 2.0  # how long a replica trusts a session it checked

    @classmethod
    def from_env(
        cls,
        web_addr: str | None = None,
        grpc_addr: str | None = None,
        auth_mode: str | None = None,
        pg_dsn: str | None = None,
    ) -> WebSettings:
        """Settings from STRATA_WEB_ADDR, STRATA_ADDR, STRATA_AUTH_MODE, STRATA_WEB_SESSION_SECONDS,
        STRATA_PG_DSN (or STRATA_PG_DSN_FILE) and STRATA_WEB_SESSION_CACHE_SECONDS; arguments that are not
        None win."""
        return cls(
            web_addr=web_addr or os.environ.get("STRATA_WEB_ADDR") or DEFAULT_WEB_ADDR,
            grpc_addr=grpc_addr or os.environ.get("STRATA_ADDR") or "127.0.0.1:50051",
            auth_mode=auth_mode or os.environ.get("STRATA_AUTH_MODE") or "keys",
            session_seconds=float(os.environ.get("STRATA_WEB_SESSION_SECONDS") or 12 * 3600),
            pg_dsn=pg_dsn or _secret("STRATA_PG_DSN") or None,  # or STRATA_PG_DSN_FILE
            session_cache_seconds=float(os.environ.get("STRATA_WEB_SESSION_CACHE_SECONDS") or 2),
        )

    @property
    def open_local(self) -> bool:
        return self.auth_mode == "open-local"

    def url(self) -> str:
        host, _, port = self.web_addr.rpartition(":")
        return f"http://{host or '127.0.0.1'}:{port}"
