"""The process-wide resources every handler, domain function and background task receives.

It lives apart from the server chassis so that domain code can name its dependencies without
importing gRPC server wiring."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg

from .auth import Authorizer
from .blobstore import BlobStore
from .config import Settings


@dataclass
class Deps:
    """What handlers and background tasks get: shared, process-wide resources."""

    settings: Settings
    pool: asyncpg.Pool
    blobs: BlobStore
    authorizer: Authorizer
    extras: dict[str, object] = field(default_factory=dict)
    #: set when the server begins to stop: long-lived streams (WatchAlias) end at once with
    #: UNAVAILABLE, so clients reconnect elsewhere instead of holding the shutdown for its grace period
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    #: a pool on the read replica (STRATA_PG_READ_DSN) when one is configured; see `reads`
    read_pool: asyncpg.Pool | None = None

    @property
    def reads(self) -> asyncpg.Pool:
        """The pool for reads that may lag the primary slightly: the replica's, else the primary's."""
        return self.read_pool if self.read_pool is not None else self.pool
